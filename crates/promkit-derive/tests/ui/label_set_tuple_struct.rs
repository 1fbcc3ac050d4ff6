use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels(String, bool);

fn main() {}
