#!/usr/bin/env bash
# Compatibility: Node.js and npm (the node and npm on PATH; make deps installs Debian's
# nodejs and npm where there are none). libuv stats files with a raw statx (libc's
# syscall(), not statx()): before libfvm wrapped syscall() (rawsys.c), in a VM `node
# a.js` of a file the VM wrote said "Cannot find module", fs.statSync of a new file was
# ENOENT, of a changed file showed the host's size, of a deleted one succeeded, and a
# package npm installed could not be required.
. "$(dirname "$0")/../lib/harness.sh"
VM_SHELL=bash
SRC=$TOP/tests/compat/node

NODE=$(command -v node || command -v nodejs || true)
NPM=$(command -v npm || true)
if [ -z "$NODE" ] || [ -z "$NPM" ]; then
	for t in node_runs_a_script_the_vm_wrote node_requires_a_module_the_vm_wrote \
		node_stat_of_new_changed_deleted_files npm_install_of_a_local_package_then_require \
		node_rmsync_of_a_vm_made_tree node_rmsync_of_a_host_tree; do
		skip "$t" "node and npm are not installed (make deps)"
	done
	done_testing
	exit
fi
# npm's cache and logs outside the compared tree, fresh per run of this file; offline,
# nothing asked of a registry, no notifier, audit or funding messages.
export npm_config_cache=$T/npm-cache npm_config_offline=true npm_config_audit=false \
	npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=error \
	npm_config_progress=false NO_UPDATE_NOTIFIER=1 NODE_OPTIONS=

mkdir -p "$HOST/data/tree/a/b"
echo "host text" > "$HOST/data/host.txt"
echo "to be deleted" > "$HOST/data/gone.txt"
echo leaf > "$HOST/data/tree/a/b/leaf"
ln -s host.txt "$HOST/data/link"
echo 'console.log("host version")' > "$HOST/a.js"
cp "$SRC/fsprobe.js" "$HOST/"
cp -r "$SRC/localpkg" "$SRC/app" "$HOST/"

vm_check node_runs_a_script_the_vm_wrote \
	"echo 'console.log(\"written in the run\", process.argv.length)' > b.js && $NODE b.js &&
	 echo 'console.log(\"a.js rewritten, longer than before\")' > a.js && $NODE a.js"
vm_check node_requires_a_module_the_vm_wrote \
	"mkdir -p lib && echo 'module.exports = { n: 42 };' > lib/m.js &&
	 echo 'console.log(require(\"./lib/m\").n, require.resolve(\"./lib/m\").endsWith(\"/lib/m.js\"))' > main.js &&
	 $NODE main.js"
vm_check node_stat_of_new_changed_deleted_files "$NODE fsprobe.js"
# npm pack makes a tarball of the local package (fixed times: the same bytes natively and
# in a VM); npm install of it writes node_modules/ and package-lock.json into the VM.
vm_check npm_install_of_a_local_package_then_require \
	"set -o pipefail; (cd localpkg && $NPM pack --silent) && cd app &&
	 $NPM install ../localpkg/localpkg-1.0.0.tgz 2>&1 | sed -E 's/in [0-9.]+m?s/in T/' &&
	 $NODE main.js && $NODE -e 'console.log(require(\"./package.json\").dependencies)'"
vm_check node_rmsync_of_a_vm_made_tree \
	"mkdir -p made/x/y && echo 1 > made/x/y/f && ln -s f made/x/y/l &&
	 $NODE -e 'const fs = require(\"fs\"); fs.rmSync(\"made\", { recursive: true });
		console.log(fs.existsSync(\"made\"))' && ls"
vm_check node_rmsync_of_a_host_tree \
	"$NODE -e 'const fs = require(\"fs\"); fs.rmSync(\"data/tree\", { recursive: true, force: true });
		console.log(fs.existsSync(\"data/tree\"), fs.readdirSync(\"data\").sort().join(\" \"))'"

done_testing
