# Signal probe: one job per activation and seed block covers every init and depth, since one
# probe network costs milliseconds against the ~2 s a job spends importing torch.


rule probe:
    output:
        table="results/probe/{activation}{widthdir}/seeds_{seeds}.csv",
        timings="results/timings/probe/{activation}{widthdir}/seeds_{seeds}.csv",
    params:
        inits=INITS,
        depths=",".join(map(str, PROBE["depths"])),
        width=probe_width,
        custom_inits=CUSTOM_INITS,
    log:
        "results/logs/probe/{activation}{widthdir}/seeds_{seeds}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../../environment.yml"
    shell:
        "initlab probe --threads {threads} --activation {wildcards.activation} "
        "--inits {params.inits} --depths {params.depths} --width {params.width} "
        "--custom-inits {params.custom_inits:q} --seeds {wildcards.seeds} "
        "--out {output.table} --timings {output.timings} > {log} 2>&1"
