//! `install`: the process-wide recorder, set once.

use promkit::Registry;
use promkit_metrics::{InstallError, install};

/// The only test in this binary that touches the global recorder.
#[test]
fn install_sets_the_global_recorder_once() {
    let registry = Registry::new();
    let recorder = install(&registry).unwrap();
    metrics::counter!("global_total").increment(5);
    assert_eq!(crate::text(&registry), "# HELP global_total \n# TYPE global_total counter\nglobal_total 5\n");
    assert_eq!(recorder.registry().encode_text_string().unwrap(), crate::text(&registry));
    let again = install(&Registry::new()).unwrap_err();
    assert_eq!(again, InstallError::AlreadyInstalled);
    assert!(again.to_string().contains("with_local_recorder"), "{again}");
}
