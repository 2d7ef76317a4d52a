// Maps the package.json version (semver) to an MSI ProductVersion that orders the same way.
//
// Windows Installer compares only major.minor.build (255.255.65535) when it decides what upgrades what, and a
// prerelease tag is not allowed. So the build field carries patch and prerelease together:
//   build = patch * 1000 + stage, stage = alpha.N -> N, beta.N -> 100 + N, rc.N -> 200 + N, release -> 999
//   1.2.3-alpha.1 -> 1.2.3001 < 1.2.3-beta.1 -> 1.2.3101 < 1.2.3-rc.2 -> 1.2.3202 < 1.2.3 -> 1.2.3999 < 1.2.4-beta.1 -> 1.2.4101
// Limits (refused with a message): major and minor <= 255, patch <= 64, prerelease number <= 98.
import { pathToFileURL } from 'node:url';

const STAGES: Record<string, number> = { alpha: 0, beta: 100, rc: 200 };

export function msiVersion(semver: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([a-z]+)(?:\.(\d+))?)?$/.exec(semver);
  if (!m) throw new Error(`version "${semver}" is not major.minor.patch[-alpha|beta|rc[.N]]`);
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major > 255 || minor > 255) throw new Error(`version "${semver}": MSI allows at most 255 for major and minor`);
  if (patch > 64) throw new Error(`version "${semver}": patch numbers above 64 do not fit the MSI build field (patch * 1000 + stage)`);
  let stage = 999;
  if (m[4] !== undefined) {
    if (!(m[4] in STAGES)) throw new Error(`version "${semver}": prerelease must be alpha, beta or rc, not "${m[4]}"`);
    const n = m[5] === undefined ? 0 : Number(m[5]);
    if (n > 98) throw new Error(`version "${semver}": prerelease numbers above 98 do not fit`);
    stage = STAGES[m[4]] + n;
  }
  return `${major}.${minor}.${patch * 1000 + stage}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(msiVersion(process.argv[2] ?? ''));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
