use promkit::LabelValue;

#[derive(LabelValue)]
enum Never {}

fn main() {}
