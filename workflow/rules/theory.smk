# Theory beside every measurement: one small job predicts every probe layer by mean-field
# theory (initlab.study.theory), milliseconds per network, so no job per cell.


# Theory takes seconds and no data beyond the config: never worth a cluster job.
localrules:
    theory,
    theory_start,


rule theory:
    output:
        "results/tables/theory.csv",
    log:
        "results/logs/theory.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE["theory"],
        grid=json.dumps(axes.theory_grid(config, "probe"), sort_keys=True),
    shell:
        "initlab theory --threads {threads} --grid {params.grid:q} --out {output} > {log} 2>&1"


rule theory_start:
    input:
        data="results/data/moons.npz",
    output:
        "results/tables/theory_start.csv",
    log:
        "results/logs/theory_start.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=CODE["theory_start"],
        grid=json.dumps(axes.theory_grid(config, "training"), sort_keys=True),
    shell:
        "initlab theory-start --threads {threads} --grid {params.grid:q} --data {input.data} "
        "--out {output} > {log} 2>&1"
