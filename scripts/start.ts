// `npm start`: builds the viewer, then runs `inlet start` in this same process.
//
// npm runs a script through a shell (sh -c on Linux) and passes SIGINT/SIGTERM to that shell only;
// the shell dies and leaves this process running on its port, with its jobs, as an orphan. So the
// gateway watches its parent: once the shell is gone (the process is re-parented), it stops as it
// does on SIGTERM: drains, flushes and exits.
const parentAtStart = process.ppid;
const watchParent = setInterval(() => {
  if (process.ppid === parentAtStart) return;
  clearInterval(watchParent);
  process.kill(process.pid, 'SIGTERM');
}, 500);
watchParent.unref();

// INLET_SKIP_VIEWER_BUILD=1: the viewer built already (tests, which must not rebuild it under a running browser test)
if (process.env.INLET_SKIP_VIEWER_BUILD !== '1') await import('./build-viewer.ts');
process.argv.splice(2, 0, 'start');
await import('../src/cli/inlet.ts');
