# Training probe: one job per activation x optimizer x depth x seed block; inside it every init
# of the cell, for every seed of the block, trains as one stacked model.


rule train:
    input:
        data="results/data/moons.npz",
    output:
        table="results/train/{activation}/{optimizer}{lrdir}{widthdir}/depth{depth}/training_seeds_{seeds}.csv",
        curves="results/train/{activation}/{optimizer}{lrdir}{widthdir}/depth{depth}/curves_seeds_{seeds}.csv",
        timings="results/timings/train/{activation}/{optimizer}{lrdir}{widthdir}/depth{depth}/seeds_{seeds}.csv",
    params:
        inits=INITS,
        lr=optimizer_lr,
        width=train_width,
        custom_inits=CUSTOM_INITS,
        steps=TRAINING["steps"],
        curve_stride=TRAINING["curve_stride"],
    log:
        "results/logs/train/{activation}/{optimizer}{lrdir}{widthdir}/depth{depth}/seeds_{seeds}.log",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    conda:
        "../../environment.yml"
    shell:
        "initlab train --threads {threads} --data {input.data} --depth {wildcards.depth} "
        "--width {params.width} --activation {wildcards.activation} "
        "--optimizer {wildcards.optimizer} --lr {params.lr} --steps {params.steps} "
        "--curve-stride {params.curve_stride} --inits {params.inits} "
        "--custom-inits {params.custom_inits:q} --seeds {wildcards.seeds} "
        "--out {output.table} --curves {output.curves} --timings {output.timings} > {log} 2>&1"
