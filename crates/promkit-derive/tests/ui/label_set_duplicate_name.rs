use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels {
    method: String,
    #[label(rename = "method")]
    verb: String,
}

fn main() {}
