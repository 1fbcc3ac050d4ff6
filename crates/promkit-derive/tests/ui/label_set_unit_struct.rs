use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels;

fn main() {}
