use promkit::LabelValue;

#[derive(LabelValue)]
#[label(rename_all = "lowercase")]
enum Status {
    NotFound,
    #[label(rename = "notfound")]
    Missing,
}

fn main() {}
