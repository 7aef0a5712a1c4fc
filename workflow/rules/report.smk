# Aggregation (pandas), figures (seaborn) and the HTML report (Jinja2). These read tables only.


localrules:
    effective_config,
    aggregate,
    manifest,
    provenance,
    aggregate_timings,
    figures,
    report,


rule effective_config:
    output:
        "results/config.json",
    log:
        "results/logs/effective_config.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    params:
        config=config_json,
    shell:
        "printf '%s\\n' {params.config:q} > {output} 2> {log}"


rule aggregate:
    input:
        jobs=table_inputs,
        config="results/config.json",
    output:
        report(
            "results/tables/{table}.csv",
            category="Tables",
            caption="../report/table.rst",
            labels={"table": "{table}"},
        ),
    log:
        "results/logs/aggregate/{table}.log",
    wildcard_constraints:
        table="|".join(JOB_TABLES),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        code=CODE["aggregate"],
    shell:
        "initlab aggregate --table {wildcards.table} --config {input.config} --out {output} "
        "{input.jobs} > {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule aggregate_timings:
    input:
        timing_files,
    output:
        "results/timings.csv",
    log:
        "results/logs/aggregate/timings.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=CODE["aggregate_timings"],
    shell:
        "initlab aggregate --table timings --out {output} {input} > {log} 2>&1"


#: Every reproducible table the config makes.
TABLE_FILES = [f"results/tables/{t.name}.csv" for t in MADE_TABLES if t.reproducible]


# Every table checked against the config once more, then fingerprinted: the report shows the
# manifest, and `initlab verify results` re-checks a results folder against it.
rule manifest:
    input:
        tables=TABLE_FILES,
        config="results/config.json",
    output:
        "results/tables/MANIFEST.json",
    log:
        "results/logs/manifest.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        code=CODE["manifest"],
    shell:
        "initlab manifest --tables results/tables --config {input.config} --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


# The run's record (initlab.study.provenance): commit, each rule's fingerprint, package versions,
# machine, threads, config and seeds, timings. Its params hold every fingerprint, so it is rewritten
# whenever any rule's code changes; the report renders it and `initlab compare`/`verify` read it.
rule provenance:
    input:
        tables=TABLE_FILES,
        config="results/config.json",
        timings="results/timings.csv",
    output:
        "results/provenance.json",
    log:
        "results/logs/provenance.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        code=json.dumps(CODE, sort_keys=True),
        threads=rule_threads,
    shell:
        "initlab provenance --config {input.config} --fingerprints {params.code:q} --threads {params.threads:q} "
        "--timings {input.timings} --out {output} "
        "> {log} 2>&1 || {{ tail -n 1 {log} >&2; exit 1; }}"


rule figures:
    input:
        TABLE_FILES,
    output:
        report(
            directory("results/figures"),
            patterns=["{name}.png"],
            category="Figures",
            caption="../report/figure.rst",
            labels={"figure": "{name}"},
        ),
    log:
        "results/logs/figures.log",
    conda:
        "../../environment.yml"
    # Figures are drawn two at a time (each in its own process): they are the serial tail's
    # longest step, and by then the compute jobs are done. Snakemake scales this to --cores.
    threads: 2
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        code=CODE["figures"],
    shell:
        "initlab figures --threads {threads} --tables results/tables --out {output} > {log} 2>&1"


# The last rule: its one line of stdout (not logged) tells the user where the report is.
rule report:
    input:
        tables=TABLE_FILES,
        figures="results/figures",
        config="results/config.json",
        timings="results/timings.csv",
        manifest="results/tables/MANIFEST.json",
        provenance="results/provenance.json",
    output:
        report(
            "results/report.html",
            category="Report",
            caption="../report/report.rst",
            labels={"file": "report.html"},
        ),
    log:
        "results/logs/report.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=CODE["report"],
    shell:
        "initlab report --tables results/tables --figures {input.figures} "
        "--config {input.config} --timings {input.timings} --provenance {input.provenance} "
        "--out {output} 2> {log}"
