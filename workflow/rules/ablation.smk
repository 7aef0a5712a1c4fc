# The layer-swap ablation: one job per configured ablation x seed block; inside it every variant
# (all-A, each layer swapped to B, all-B) of every seed of the block trains as stacked models.
# Its rows feed results/tables/ablation.csv (rule aggregate) and the report's claims section.


rule ablation:
    input:
        data="results/data/moons.npz",
    output:
        **job_outputs("ablation"),
    log:
        job_log("ablation"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        code=CODE["ablation"],
        job=job_json("ablation"),
        out=out_flags,
    shell:
        "initlab job --threads {threads} --job {params.job:q} --data {input.data} {params.out} "
        "--timings {output.timings} > {log} 2>&1"
