# Test-only workflow for tests/cluster/test_cluster_study.py: the study plus two rules in the
# `train` group that make a cluster run go wrong on purpose, without touching the library.
#
#   flaky  fails on its first attempt and succeeds on the next: the first attempt leaves a marker
#          file behind (not an output, so Snakemake does not remove it when the job fails).
#   hold   runs after the study's first train job, in the same group job; announces that it
#          runs, writes half its output, then waits for results/release to exist. A test can
#          interrupt the run while that SLURM job certainly runs, with an output half-written.


include: "../../Snakefile"


localrules:
    all_with_flaky,
    all_with_hold,


rule flaky:
    input:
        "results/data/moons.npz",
    output:
        "results/flaky.txt",
    params:
        marker="results/flaky.failed-once",
    log:
        "results/logs/flaky.log",
    group:
        "train"
    threads: 1
    resources:
        mem_mb=500,
        runtime=1,
    shell:
        "if [ -e {params.marker} ]; then echo 'second attempt' > {output}; "
        'else echo "failed in SLURM job $SLURM_JOB_ID" > {params.marker}; exit 3; fi 2> {log}'


rule hold:
    input:
        TABLE_INPUTS["training"][:1],
    output:
        "results/hold.txt",
    params:
        started="results/hold.started",
        release="results/release",
    log:
        "results/logs/hold.log",
    group:
        "train"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        'echo half > {output}; echo "$SLURM_JOB_ID" > {params.started}; '
        "while [ ! -e {params.release} ]; do sleep 0.2; done; echo released > {output} 2> {log}"


rule all_with_flaky:
    input:
        rules.all.input,
        rules.flaky.output,


rule all_with_hold:
    input:
        rules.all.input,
        rules.hold.output,
