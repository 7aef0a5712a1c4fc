# Signal probe: one job per activation x width x seed block covers every init and depth, since one
# probe network costs milliseconds against the ~2 s a job spends importing torch.


rule probe:
    output:
        **job_outputs("probe"),
    log:
        job_log("probe"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        code=CODE["probe"],
        job=job_json("probe"),
        out=out_flags,
    shell:
        "initlab job --threads {threads} --job {params.job:q} {params.out} " "--timings {output.timings} > {log} 2>&1"
