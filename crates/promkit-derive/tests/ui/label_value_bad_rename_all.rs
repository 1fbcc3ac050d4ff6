use promkit::LabelValue;

#[derive(LabelValue)]
#[label(rename_all = "camelCase")]
enum Method {
    Get,
}

fn main() {}
