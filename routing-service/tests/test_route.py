from routing.domain.route import StepState, ready_steps, route_complete


def birth_group(civil: str, residence: str = "waiting", insurance: str = "waiting") -> list[StepState]:
    return [
        StepState("civil-status", (), civil),
        StepState("residence", ("civil-status",), residence),
        StepState("health-insurance", ("civil-status",), insurance),
    ]


def test_only_the_first_step_starts_at_receipt() -> None:
    assert ready_steps(birth_group("waiting")) == ["civil-status"]


def test_parallel_branches_start_together_once_their_predecessor_is_done() -> None:
    assert ready_steps(birth_group("done")) == ["residence", "health-insurance"]
    assert ready_steps(birth_group("done", "assigned", "waiting")) == ["health-insurance"]


def test_route_is_complete_only_when_every_branch_is_done() -> None:
    assert not route_complete(birth_group("done", "done", "assigned"))
    assert route_complete(birth_group("done", "done", "done"))
