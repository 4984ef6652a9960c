use std::fs;
use std::io::{Read, Write};
use std::process::Command;

fn main() {
    let cwd = std::env::current_dir().expect("current_dir");
    println!("cwd ends with host: {}", cwd.ends_with("host"));
    fs::create_dir_all("out/a/b/c").expect("create_dir_all");
    let mut f = fs::File::create("out/a/file.txt").expect("create");
    f.write_all(b"hello from rust\n").expect("write");
    drop(f);
    let mut s = String::new();
    fs::File::open("out/a/file.txt").expect("open").read_to_string(&mut s).expect("read");
    print!("read: {}", s);
    let m = fs::metadata("out/a/file.txt").expect("metadata");
    println!("len {} file {} dir {}", m.len(), m.is_file(), m.is_dir());
    let m = fs::symlink_metadata("data/link").expect("symlink_metadata");
    println!("link is symlink {}", m.file_type().is_symlink());
    println!("target {:?}", fs::read_link("data/link").expect("read_link"));
    println!("canonical ends {:?}", fs::canonicalize("data/link").expect("canonicalize").file_name());
    let mut names: Vec<String> = fs::read_dir("data").expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    println!("data: {:?}", names);
    fs::rename("out/a/file.txt", "out/a/b/moved.txt").expect("rename");
    fs::copy("data/host.txt", "out/copy.txt").expect("copy");
    fs::write("data/host.txt", "changed by rust\n").expect("write host file");
    println!("host file now: {}", fs::read_to_string("data/host.txt").expect("read").trim());
    println!("missing: {:?}", fs::metadata("nope").map_err(|e| e.kind()).err());
    fs::remove_dir_all("data/tree").expect("remove_dir_all");
    println!("tree gone: {}", fs::metadata("data/tree").is_err());
    let out = Command::new("sh").arg("-c").arg("ls out/a/b; cat out/copy.txt").output().expect("command");
    print!("command: {}", String::from_utf8_lossy(&out.stdout));
    println!("status {}", out.status.success());
    let st = Command::new("false").status().expect("false");
    println!("false exits {:?}", st.code());
    std::process::exit(if std::env::args().count() > 1 { 3 } else { 0 });
}
