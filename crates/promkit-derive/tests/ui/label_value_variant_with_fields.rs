use promkit::LabelValue;

#[derive(LabelValue)]
enum Method {
    Get,
    Other(String),
}

fn main() {}
