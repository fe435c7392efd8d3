//! The service definitions shipped in `contrib/` for the platforms CI cannot run
//! them on (launchd on macOS, Task Scheduler on Windows): parsed as XML and held
//! to what the README says they do. The systemd units are exercised in
//! `tests/units.rs`.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    n.children()
        .find(|c| c.has_tag_name(name))
        .unwrap_or_else(|| panic!("<{}> has no <{name}>", n.tag_name().name()))
}

fn text<'a>(n: roxmltree::Node<'a, '_>) -> &'a str {
    n.text().unwrap_or("").trim()
}

#[test]
fn the_windows_logon_task_runs_the_agent_as_the_user_without_a_time_limit() {
    let xml = read("contrib/windows/clawvault-agent.xml");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let task = doc.root_element();
    assert!(task.has_tag_name((
        "http://schemas.microsoft.com/windows/2004/02/mit/task",
        "Task"
    )));
    // At logon, as the interactive user, without elevation.
    let trig = child(task, "Triggers");
    assert!(text(child(child(trig, "LogonTrigger"), "Enabled")) == "true");
    let p = child(child(task, "Principals"), "Principal");
    assert_eq!(text(child(p, "LogonType")), "InteractiveToken");
    assert_eq!(text(child(p, "RunLevel")), "LeastPrivilege");
    // A daemon: never stopped by Task Scheduler's default 72-hour limit.
    let settings = child(task, "Settings");
    assert_eq!(text(child(settings, "ExecutionTimeLimit")), "PT0S");
    assert_eq!(
        text(child(settings, "MultipleInstancesPolicy")),
        "IgnoreNew"
    );
    let exec = child(child(task, "Actions"), "Exec");
    assert!(text(child(exec, "Command")).ends_with(r#"\clawvault.exe""#));
    assert_eq!(text(child(exec, "Arguments")), "agent run --idle 0");
}

#[test]
fn the_launchd_agent_runs_the_agent_without_core_dumps() {
    let xml = read("contrib/launchd/ai.openclaw.clawvault-agent.plist");
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&xml, opts).expect("well-formed XML");
    let dict = child(doc.root_element(), "dict");
    let kids: Vec<_> = dict.children().filter(|n| n.is_element()).collect();
    let value = |key: &str| {
        let i = kids
            .iter()
            .position(|n| n.has_tag_name("key") && text(*n) == key)
            .unwrap_or_else(|| panic!("no {key}"));
        kids[i + 1]
    };
    let args: Vec<&str> = value("ProgramArguments")
        .children()
        .filter(|n| n.has_tag_name("string"))
        .map(text)
        .collect();
    assert_eq!(&args[1..], ["agent", "run", "--idle", "0"]);
    assert!(args[0].ends_with("/clawvault"));
    let limits: Vec<_> = value("SoftResourceLimits")
        .children()
        .filter(|n| n.is_element())
        .map(text)
        .collect();
    assert_eq!(limits, ["Core", "0"]);
}
