# The layer-swap ablation: one job per configured ablation x seed block; inside it every variant
# (all-A, each layer swapped to B, all-B) of every seed of the block trains as stacked models.
# Its rows feed results/tables/ablation.csv (rule aggregate) and the report's claims section.


rule ablation:
    input:
        data="results/data/moons.npz",
    output:
        table="results/ablation/{ablation}/seeds_{seeds}.csv",
        timings="results/timings/ablation/{ablation}/seeds_{seeds}.csv",
    params:
        entry=lambda wildcards: ABLATIONS[wildcards.ablation],
        custom_inits=CUSTOM_INITS,
    log:
        "results/logs/ablation/{ablation}/seeds_{seeds}.log",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    conda:
        "../../environment.yml"
    shell:
        "initlab ablate --threads {threads} --data {input.data} --init-a {params.entry[init_a]} "
        "--init-b {params.entry[init_b]} --depth {params.entry[depth]} --width {params.entry[width]} "
        "--activation {params.entry[activation]} --optimizer {params.entry[optimizer]} "
        "--lr {params.entry[lr]} --steps {params.entry[steps]} --custom-inits {params.custom_inits:q} "
        "--seeds {wildcards.seeds} "
        "--out {output.table} --timings {output.timings} > {log} 2>&1"
