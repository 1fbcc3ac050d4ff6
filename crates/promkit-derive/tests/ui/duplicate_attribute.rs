use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels {
    #[label(rename = "verb")]
    #[label(rename = "op")]
    method: String,
}

fn main() {}
