use promkit::{LabelSet, LabelValue};

#[derive(LabelValue)]
#[label(rename_al = "lowercase")]
enum Method {
    #[label(rename_all = "lowercase")]
    Get,
}

#[derive(LabelSet)]
#[label(rename = "labels")]
struct Labels {
    #[label(name = "verb")]
    method: Method,
}

fn main() {}
