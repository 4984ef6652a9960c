// What Node's fs sees of files made, changed and deleted in the same process tree:
// stat goes through libuv's raw statx, listings through scandir.
const fs = require('fs');
const show = (p) => {
  try {
    const st = fs.statSync(p);
    console.log(p, st.isDirectory() ? 'dir' : 'file', st.isDirectory() ? '-' : st.size);
  } catch (e) {
    console.log(p, e.code);
  }
};
fs.writeFileSync('new.txt', 'made by node\n');
fs.appendFileSync('data/host.txt', 'appended by node\n');
fs.unlinkSync('data/gone.txt');
for (const p of ['new.txt', 'data/host.txt', 'data/gone.txt', 'data', 'made.txt']) show(p);
console.log('exists:', fs.existsSync('new.txt'), fs.existsSync('data/gone.txt'), fs.existsSync('made.txt'));
console.log('lstat link:', fs.lstatSync('data/link').isSymbolicLink(), fs.readlinkSync('data/link'));
console.log('realpath:', fs.realpathSync('data/link').endsWith('/data/host.txt'));
console.log('listing:', fs.readdirSync('data').sort().join(' '));
fs.mkdirSync('made/a/b', { recursive: true });
fs.renameSync('new.txt', 'made/a/b/moved.txt');
show('made/a/b/moved.txt');
show('new.txt');
