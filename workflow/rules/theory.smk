# Theory beside every measurement: one small job predicts every probe layer by mean-field
# theory (initlab.study.theory), milliseconds per network, so no job per cell.


# Theory takes seconds and no data beyond the config: never worth a cluster job.
localrules:
    theory,
    theory_start,


rule theory:
    output:
        "results/tables/theory.csv",
    params:
        activations=",".join(PROBE["activations"]),
        inits=INITS,
        depths=",".join(map(str, PROBE["depths"])),
        width=",".join(map(str, axes.as_list(PROBE["width"]))),
        custom_inits=CUSTOM_INITS,
    log:
        "results/logs/theory.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "initlab theory --threads {threads} --activations {params.activations} --inits {params.inits} "
        "--depths {params.depths} --width {params.width} --custom-inits {params.custom_inits:q} "
        "--out {output} > {log} 2>&1"


rule theory_start:
    input:
        data="results/data/moons.npz",
    output:
        "results/tables/theory_start.csv",
    params:
        activations=",".join(TRAINING["activations"]),
        inits=INITS,
        depths=",".join(map(str, TRAINING["depths"])),
        width=",".join(map(str, axes.as_list(TRAINING["width"]))),
        custom_inits=CUSTOM_INITS,
    log:
        "results/logs/theory_start.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    shell:
        "initlab theory-start --threads {threads} --data {input.data} --activations {params.activations} "
        "--inits {params.inits} --depths {params.depths} --width {params.width} "
        "--custom-inits {params.custom_inits:q} --out {output} > {log} 2>&1"
