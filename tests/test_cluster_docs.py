"""docs/accelerate-multinode.yaml, the multi-node training example of docs/cluster.md, read by accelerate's own
launcher code: what each machine would start, without starting it (that needs several machines; the
2-process DDP run on one machine is tests/test_training_background.py::test_ddp_two_cpu_processes)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "docs" / "accelerate-multinode.yaml"


def _launch_args(*argv: str):
    """The arguments ``accelerate launch`` runs with on one machine, after it has read the config file
    (``launch_command`` calls these two before it starts torch.distributed.run)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_multi_gpu_env

    args = launch_command_parser().parse_args(["--config_file", str(CONFIG), *argv])
    args = _validate_launch_command(args)[0]
    prepare_multi_gpu_env(args)
    return args


def test_the_multinode_example_is_a_config_accelerate_accepts():
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIG))  # unknown keys are refused there
    assert (config.distributed_type.value, config.num_machines, config.num_processes, config.mixed_precision) == (
        "MULTI_GPU", 2, 8, "no")


def test_each_machine_starts_its_share_of_processes_against_the_first():
    # Rank 1: the launcher of rank 0 would also check that the port is free on this machine.
    args = _launch_args("--machine_rank", "1", "-m", "ner_demo", "train", "--config", "my-run.yaml")
    assert (args.nnodes, args.nproc_per_node, args.node_rank, args.rdzv_endpoint) == ("2", "4", 1, "10.0.0.1:29500")
    assert (args.module, args.training_script, args.training_script_args) == (
        True, "ner_demo", ["train", "--config", "my-run.yaml"])
