"""The scale-out benchmark's arithmetic (eval/scale_bench.py): 10M passages over N workers."""
from eval.scale_bench import PROJECTED_WORKERS, projection


def test_the_projection_divides_ten_million_passages_by_the_workers_rate():
    lines = projection(20.0, cpus=2, insert_rate=5000.0)
    assert lines[0] == "per worker (1 CPU of this 2-CPU machine): 20.0 passages/s / 2 = 10.0 passages/s"
    assert len(lines) == 1 + len(PROJECTED_WORKERS) + 1
    eight = next(line for line in lines if line.strip().startswith("8 workers"))
    assert "10,000,000 / (8 x 10.0) = 125,000 s = 34.7 h" in eight
    assert "10,000,000 / 5,000 = 2,000 s = 0.6 h" in lines[-1]
    assert len(projection(20.0, cpus=2, insert_rate=None)) == 1 + len(PROJECTED_WORKERS)
