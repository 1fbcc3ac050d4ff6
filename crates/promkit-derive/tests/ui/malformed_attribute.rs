use promkit::{LabelSet, LabelValue};

#[derive(LabelValue)]
enum Method {
    #[label]
    Get,
    #[label(rename = GET)]
    Post,
}

#[derive(LabelSet)]
#[label(crate = "not a path")]
struct Labels {
    #[label = "verb"]
    method: Method,
}

fn main() {}
