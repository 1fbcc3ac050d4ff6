use promkit::LabelSet;

#[derive(LabelSet)]
union Labels {
    code: u32,
}

fn main() {}
