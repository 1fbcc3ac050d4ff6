use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels {
    #[label(rename = "status-code")]
    code: u16,
    größe: String,
}

fn main() {}
