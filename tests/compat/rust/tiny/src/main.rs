fn main() {
    println!("2 + 40 = {}", tiny::add(2, 40));
}
