# The lesson's own labs, replayed by the library, and the data set made once for training jobs.


# The data set takes under a second: never worth a cluster job.
localrules:
    dataset,


rule lab_replay:
    output:
        table="results/tables/lab_reproduction.csv",
        lab1="results/lab/lab1.txt",
        lab2="results/lab/lab2.txt",
        timings="results/timings/lab_replay.csv",
    log:
        "results/logs/lab_replay.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE["lab_replay"],
    shell:
        "initlab lab-replay --threads {threads} --out {output.table} "
        "--text-dir results/lab --timings {output.timings} > {log} 2>&1"


rule dataset:
    output:
        "results/data/moons.npz",
    log:
        "results/logs/dataset.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE["dataset"],
        dataset=json.dumps(config["dataset"], sort_keys=True),
    shell:
        "initlab dataset --dataset {params.dataset:q} --out {output} > {log} 2>&1"
