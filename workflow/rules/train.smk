# Training probe: one job per activation x optimizer x lr x width x depth x seed block; inside it
# every init of the cell, for every seed of the block, trains as one stacked model.


rule train:
    input:
        data="results/data/moons.npz",
    output:
        **job_outputs("train"),
    log:
        job_log("train"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        code=CODE["train"],
        job=job_json("train"),
        out=out_flags,
    shell:
        "initlab job --threads {threads} --job {params.job:q} --data {input.data} {params.out} "
        "--timings {output.timings} > {log} 2>&1"
