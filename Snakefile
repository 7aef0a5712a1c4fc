# initlab: the weight-initialization study. `snakemake --cores 8` -> results/report.html
#
# Rules only schedule jobs and move files; every number comes from the `initlab` library
# (src/initlab), called through its command line. Config: config/config.yaml, validated
# (and completed with defaults) against workflow/schemas/config.schema.yaml.


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/lesson.smk"
include: "workflow/rules/probe.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/report.smk"


check_job_sizes()


rule all:
    default_target: True
    input:
        "results/report.html",
