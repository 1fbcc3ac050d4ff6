use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels {
    method: String,
    ratio: f64,
    body: Vec<u8>,
}

fn main() {}
