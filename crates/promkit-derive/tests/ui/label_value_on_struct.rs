use promkit::LabelValue;

#[derive(LabelValue)]
struct Method {
    name: String,
}

fn main() {}
