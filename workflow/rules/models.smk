# Configured models (config `models:`): one job per model x optimizer x lr x seed block; inside
# it every init of the study, for every seed of the block, trains one model at a time on the
# model's data set, which rule model_dataset makes once per data set. Rows feed
# results/tables/models.csv and model_curves.csv (rule aggregate). A config without models has
# no such jobs. Their input functions are in workflow/rules/common.smk.


# A data set takes a second or two (scikit-learn's import): never worth a cluster job.
localrules:
    model_dataset,


rule model_dataset:
    input:
        model_dataset_source,
    output:
        dataset_path("{dataset}"),
    log:
        "results/logs/datasets/{dataset}.log",
    wildcard_constraints:
        dataset=r"[A-Za-z0-9_.+-]+",
    # First, as the model jobs waiting for it (rule model's priority is not passed up to it).
    priority: 1
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        definition=model_dataset_definition,
        code=CODE["model_dataset"],
    shell:
        "initlab model-dataset --name {wildcards.dataset} --definition {params.definition:q} "
        "--out {output} > {log} 2>&1"


rule model:
    input:
        data=model_job_data,
        factory=model_job_factory,
    output:
        **job_outputs("model"),
    log:
        job_log("model"),
    # The study's longest jobs start first (the lesson's short jobs fill the cores around them).
    priority: 1
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    params:
        job=job_json("model"),
        out=out_flags,
        code=CODE["model"],
    shell:
        "initlab job --threads {threads} --job {params.job:q} --data {input.data} {params.out} "
        "--timings {output.timings} > {log} 2>&1"
