use promkit::LabelSet;

#[derive(LabelSet)]
struct Labels {
    __name: String,
}

fn main() {}
