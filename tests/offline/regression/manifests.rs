//! Regressions of reading the app's manifests: kustomize folders, Helm chart
//! folders, empty files, folders and stdin, concatenated YAML, and what is
//! said when no workload is found.

use crate::support::{Run, onramp, onramp_env, onramp_in, read, repo_path};

/// A folder holding the demo's checkout manifest and a kustomization that
/// moves it to namespace `prod` with the name prefix `eu-`.
fn kustomize_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        repo_path("examples/shop/k8s/checkout.yaml"),
        dir.path().join("checkout.yaml"),
    )
    .expect("copy the demo manifest");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nnamePrefix: eu-\nresources:\n  - checkout.yaml\n",
    )
    .expect("write the kustomization");
    dir
}

/// A folder with nothing in it, to stand for PATH on a machine without tools.
fn empty_path() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn is_on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

/// What `kubectl kustomize` prints for [`kustomize_folder`].
fn built_checkout() -> String {
    read(repo_path("examples/shop/k8s/checkout.yaml"))
        .replace("namespace: shop", "namespace: prod")
        .replace("name: checkout\n", "name: eu-checkout\n")
}

/// PATH for a run that must find `kubectl`: the real one when installed,
/// else a stand-in (kept alive by the returned folder) that prints
/// [`built_checkout`].
fn path_with_kubectl() -> (Option<tempfile::TempDir>, String) {
    let path = std::env::var("PATH").unwrap_or_default();
    if is_on_path("kubectl") {
        return (None, path);
    }
    let bin = only_tool("kubectl", &built_checkout());
    let with = format!("{}:{path}", bin.path().display());
    (Some(bin), with)
}

/// `plan` of [`kustomize_folder`] with `path` finds the app as built:
/// `eu-checkout` in namespace `prod`.
fn plans_the_built_app(folder: &str, path: &str) {
    let run = onramp_env(&["plan", "eu-checkout", "-f", folder], &[("PATH", path)]);
    run.expect_status(0);
    assert!(
        run.stdout
            .starts_with("Plan for deployment/eu-checkout in namespace prod"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_kustomize_folder_was_read_as_raw_files_ignoring_its_namespace_and_name_prefix() {
    let k8s = kustomize_folder();
    let (stand_in, path) = path_with_kubectl();
    let folder = k8s.path().display().to_string();

    plans_the_built_app(&folder, &path);
    // The raw file's name is not what gets deployed, so it is not found.
    let raw = onramp_env(&["plan", "checkout", "-f", &folder], &[("PATH", &path)]);
    raw.expect_status(2);
    assert!(
        raw.stderr
            .contains("deployment/eu-checkout (namespace prod)"),
        "{}",
        raw.stderr
    );
    if let Some(bin) = stand_in {
        assert_eq!(
            read(bin.path().join("args.log")).trim(),
            format!("kustomize {folder}")
        );
    }
}

/// A folder holding only a stand-in for `program` that logs its arguments
/// and prints `output`, like the tool on a machine that has only it.
fn only_tool(program: &str, output: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().expect("temp dir");
    std::fs::write(bin.path().join("output.yaml"), output).expect("write the output");
    let script = format!(
        "#!/bin/sh\necho \"$@\" > {dir}/args.log\n/bin/cat {dir}/output.yaml\n",
        dir = bin.path().display()
    );
    let tool = bin.path().join(program);
    std::fs::write(&tool, script).expect("write the stand-in");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

#[test]
fn a_kustomize_folder_was_not_built_with_kustomize_build_when_kubectl_is_absent() {
    let k8s = kustomize_folder();
    let folder = k8s.path().display().to_string();
    let bin = only_tool("kustomize", &built_checkout());
    let path = bin.path().display().to_string();
    plans_the_built_app(&folder, &path);
    assert_eq!(
        read(bin.path().join("args.log")).trim(),
        format!("build {folder}")
    );
}

#[test]
fn a_lone_kustomization_said_no_workload_without_saying_it_was_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    )
    .expect("write the kustomization");
    let folder = dir.path().display().to_string();
    let bin = only_tool("kubectl", "");
    let path = bin.path().display().to_string();
    let run = onramp_env(&["plan", "checkout", "-f", &folder], &[("PATH", &path)]);
    run.expect_status(2);
    assert_eq!(
        run.stderr.trim(),
        format!(
            "error: {folder}: `kubectl kustomize {folder}` printed no Kubernetes object: the kustomization lists no resources"
        )
    );
}

#[test]
fn a_kustomize_folder_without_kubectl_or_kustomize_was_ignored_instead_of_refused() {
    let k8s = kustomize_folder();
    let bin = empty_path();
    let folder = k8s.path().display().to_string();
    let run = onramp_env(
        &["codify", "checkout", "-f", &folder, "--out", "unused"],
        &[("PATH", &bin.path().display().to_string())],
    );
    run.expect_status(2);
    assert!(
        run.stderr.contains(&format!(
            "\n  kustomize build {folder} | onramp codify checkout -f - --out unused\n"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("neither `kubectl` nor `kustomize` is on PATH"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_helm_chart_folder_said_its_chart_yaml_has_no_kind() {
    let chart = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        chart.path().join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    )
    .expect("write Chart.yaml");
    std::fs::create_dir(chart.path().join("templates")).expect("templates");
    let folder = chart.path().display().to_string();
    let run = onramp(&["plan", "cart", "-n", "shop", "-f", &folder]);
    run.expect_status(2);
    assert!(!run.stderr.contains("has no kind"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "\n  helm template RELEASE {folder} | onramp plan cart -n shop -f -"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn an_empty_file_said_no_workload_without_saying_it_was_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("app.yaml"), "# nothing yet\n").expect("write");
    let run = onramp_in(
        Some(dir.path()),
        &["plan", "checkout", "-f", "app.yaml"],
        None,
    );
    run.expect_status(2);
    assert_eq!(
        run.stderr.trim(),
        "error: app.yaml: the file is empty: it holds no Kubernetes object"
    );
}

#[test]
fn an_empty_folder_said_no_workload_without_saying_it_was_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("k8s")).expect("mkdir");
    let run = onramp_in(Some(dir.path()), &["plan", "checkout", "-f", "k8s/"], None);
    run.expect_status(2);
    assert_eq!(
        run.stderr.trim(),
        "error: k8s/: this folder holds no manifest files (*.yaml, *.yml, *.json)"
    );
}

#[test]
fn empty_stdin_said_no_workload_without_saying_nothing_was_piped_in() {
    let run = onramp_in(None, &["plan", "checkout", "-f", "-"], Some(""));
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("<stdin>: nothing was piped in: standard input is empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn yaml_files_concatenated_without_a_separator_gave_the_yaml_librarys_advice() {
    let text = read(repo_path("examples/shop/k8s/checkout.yaml"))
        .lines()
        .filter(|l| *l != "---")
        .collect::<Vec<_>>()
        .join("\n");
    let run = onramp_in(None, &["plan", "checkout", "-f", "-"], Some(&text));
    run.expect_status(2);
    assert!(!run.stderr.contains("DuplicateKeyPolicy"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the key `apiVersion` appears twice in one document: two documents without a `---` separator?"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn no_workload_in_the_manifests_did_not_name_the_files_read() {
    let run: Run = onramp(&[
        "plan",
        "cart",
        "-f",
        "examples/shop/k8s/checkout.yaml",
        "-f",
        "examples/shop/k8s/flags.yaml",
    ]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(
            "no workload \"cart\" in the manifests read (examples/shop/k8s/checkout.yaml, examples/shop/k8s/flags.yaml)"
        ),
        "{}",
        run.stderr
    );
}
