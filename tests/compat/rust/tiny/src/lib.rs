pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(2, 3), 5);
    }

    #[test]
    fn writes_and_reads_a_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/testdata");
        std::fs::create_dir_all(dir).unwrap();
        let p = format!("{}/f.txt", dir);
        std::fs::write(&p, "x").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 1);
    }
}
