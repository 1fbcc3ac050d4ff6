use promkit::LabelValue;

#[derive(LabelValue)]
enum Cache {
    Hit,
    #[label(rename = "")]
    Miss,
}

fn main() {}
