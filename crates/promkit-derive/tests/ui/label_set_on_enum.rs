use promkit::LabelSet;

#[derive(LabelSet)]
enum Labels {
    Get,
}

fn main() {}
