"""The demo county's registry, postings and rotations (桂阳县 431021), through the rotation service's HTTP API.

Shaped like the seed county (S4): 39 townships in three classes (一类/二类/三类乡镇, names illustrative),
a few hundred cadres with careers from 2008 (the county rule set's start) to today:
- general township cadres (乡镇一般干部): rotated to another township after 8 years there (the 2003
  乡镇干部交流暂行办法; S4: 86 rotated), some deferred with an approval reference, some still due;
- township leaders (乡镇领导): promoted to deputy secretary, some later to secretary (正职), in the same post up
  to 10 years, then rotated or still due;
- county-department internal-unit leaders and sensitive posts (内设机构领导, 重要岗位): promoted with probation
  (试用期) and its conclusion, rotated after 10 years;
- retirements at the age limit (到龄免职).
Promotions carry an exemption reason (legacy records: the notices are on paper), not a notice id.
Every posting states `elected`, as its title tells: the township's 副乡镇长 (elected by the people's congress) and
its Party committee's 书记 and 副书记 (elected by the committee) are elected posts, so promoting a cadre to one
starts no probation (选拔任用工作条例 2019 第四十三条 tries 非选举产生的领导职务 only); township clerks and the
departments' internal-unit posts (内设机构领导职务, on 第四十三条's list) are appointed (委任, `elected: false`).

Rotations need the `rotation.due` the scheduler records, so the careers are loaded in phases: the
steps up to a cadre's first rotation, a scan (`POST /v1/rotation/scan`), the steps up to the second,
another scan. Cadres load in parallel, each cadre's steps in order; a rerun on loaded data is a no-op.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from shared.rulesets import RotationRules, ruleset_for
from shared.tenure import add_months, add_years

COUNTY = "431021"
Post = Callable[[str, dict[str, Any]], dict[str, Any]]
START = date(2008, 1, 2)
WORKERS = 8
EXEMPTION = "历史任免记录补录, 任前公示材料存纸质档案 (legacy record: notice on paper)"
TOWNSHIPS: tuple[tuple[str, int], ...] = tuple(
    (name, cls) for cls, names in (
        (1, "龙潭镇 黄沙坪镇 仁义镇 太和镇 洋市镇 和平镇 流峰镇 塘市镇 莲塘镇 荷叶镇 正和镇 浩塘镇 方元镇"),
        (2, "樟市镇 敖泉镇 舂陵江镇 雷坪镇 欧阳海镇 飞仙镇 四里乡 银河乡 东城乡 光明乡 余田乡 古楼乡 白水乡"),
        (3, "桥市乡 板桥乡 泗洲乡 清和乡 八字乡 华山乡 莲花乡 桐木乡 燕塘乡 杨柳乡 大溪乡 官溪乡 千家乡"))
    for name in names.split())
DEPARTMENTS = ("县财政局", "县人力资源和社会保障局", "县发展和改革局", "县自然资源局", "县交通运输局", "县审计局")
SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "建国军华平明伟芳娟秀英敏静丽强磊洋勇艳杰涛超斌霞刚辉鹏桂春红玲志文海燕琴慧雪峰"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass
class Step:
    """One command of a cadre's career: the phase it belongs to, the path and the body."""

    phase: int
    path: str
    body: dict[str, Any]


@dataclass
class Career:
    """A cadre's planned commands, in order."""

    cadre_id: str
    steps: list[Step] = field(default_factory=list)
    phase: int = 0

    def add(self, path: str, on: date, **body: Any) -> None:
        self.steps.append(Step(self.phase, path, {"cadre_id": self.cadre_id, "county": COUNTY,
                                                  "occurred_on": on.isoformat(), **body}))


def _id_number(rng: random.Random, born: date, female: bool) -> str:
    seq = rng.randrange(0, 50) * 2 + (0 if female else 1)
    base = f"{COUNTY}{born:%Y%m%d}{rng.randrange(10)}{seq:02d}"
    return base + "10X98765432"[sum(int(d) * w for d, w in zip(base, _ID_WEIGHTS, strict=True)) % 11]


def _between(rng: random.Random, first: date, last: date) -> date:
    """A day in [first, last) (`last` when the range is empty)."""
    if last <= first:
        return last
    return first + timedelta(days=rng.randrange((last - first).days))


def _township(rng: random.Random, other_than: str | None = None) -> tuple[int, str]:
    choices = [(i, name) for i, (name, _) in enumerate(TOWNSHIPS) if name != other_than]
    return rng.choice(choices)


ELECTED = {"副乡镇长": True, "乡镇党委副书记": True, "乡镇党委书记": True,
           "乡镇机关干部": False, "办公室主任": False, "财务股股长": False}
"""Whether each of the demo's post titles is filled by election (选举产生) or by appointment (委任)."""


def _post(pid: str, post: str, unit: str, township: str | None, level: str, leadership: bool,
          **flags: bool) -> dict[str, Any]:
    return {"post_id": pid, "post": post, "unit": unit, "township": township, "level": level,
            "leadership": leadership, "elected": ELECTED[post], **flags}


@dataclass(frozen=True)
class Person:
    """When a demo cadre was born and registered, and the last day the plan may place a step on."""

    born: date
    registered: date
    horizon: date
    """Today, or the day before the age limit (到龄) when that comes first."""


def _assign(career: Career, on: date, post: dict[str, Any], **extra: Any) -> None:
    fields = {k: v for k, v in post.items() if k != "post_id"}
    career.add(f"/v1/posts/{post['post_id']}/assign", on, **fields, **extra)


def _register(career: Career, rng: random.Random, today: date, unit: str) -> Person:
    female = rng.random() < 0.35
    born = _between(rng, date(1966, 1, 1), date(1990, 12, 31))
    work_start = add_years(born, rng.randint(21, 24))
    on = min(max(work_start, START), add_months(today, -6))
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
    career.add("/v1/cadres/register", on, name=name, sex="female" if female else "male",
               birth_month=f"{born:%Y-%m}", id_number=_id_number(rng, born, female),
               work_start=work_start.isoformat(), unit=unit)
    return Person(born, on, min(today, add_years(born, 60) - timedelta(days=1)))


REGISTERED = START
"""When the cadres the audit and assessment demos record facts about were registered: before any of those facts."""


def register_cadres(url: str, post: Post, cadre_ids: list[str], seed: int = 431021) -> int:
    """Register each cadre (as of REGISTERED, with a made-up person) through the rotation service at `url`, so
    that the other services may record facts about them; returns how many were registered (0 on a rerun)."""
    rng = random.Random(seed)
    bodies = []
    for cadre_id in cadre_ids:
        female = rng.random() < 0.35
        born = _between(rng, date(1962, 1, 1), date(1978, 12, 31))
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        bodies.append({"cadre_id": cadre_id, "county": COUNTY, "occurred_on": REGISTERED.isoformat(), "name": name,
                       "sex": "female" if female else "male", "birth_month": f"{born:%Y-%m}",
                       "id_number": _id_number(rng, born, female),
                       "work_start": min(add_years(born, 22), REGISTERED).isoformat(), "unit": "桂阳县直机关"})

    def register(body: dict[str, Any]) -> int:
        try:
            post(f"{url}/v1/cadres/register?wait=committed", body)
        except RuntimeError as exc:
            if "cadre.register_once" in str(exc):
                return 0
            raise
        return 1

    with ThreadPoolExecutor(WORKERS) as pool:
        return sum(pool.map(register, bodies))


def _retire(career: Career, person: Person, today: date, pid: str) -> None:
    limit = add_years(person.born, 60)
    if limit <= today:
        career.add(f"/v1/posts/{pid}/vacate", limit, reason="age_limit")


def _rotate_or_leave(career: Career, rng: random.Random, pid: str, due: date, horizon: date, rule: str,
                     to: dict[str, Any]) -> date | None:
    """After a due date: rotate (returns the day), defer, or leave the rotation due (returns None)."""
    long_ago = due <= add_months(horizon, -9)
    roll = rng.random()
    if (long_ago and roll < 0.85) or (not long_ago and roll < 0.35):
        day = min(add_months(due, rng.randint(1, 8)), horizon)
        career.phase += 1
        career.add(f"/v1/posts/{pid}/rotation/complete", day, to=to, trigger_rule=rule)
        return day
    if roll > 0.8:
        career.phase += 1
        on = min(due + timedelta(days=rng.randint(10, 90)), horizon)
        career.add(f"/v1/posts/{pid}/rotation/defer", on, rule=rule,
                   until=add_months(on, rng.randint(6, 12)).isoformat(),
                   approval_reference=f"桂组干〔{on.year}〕{rng.randint(1, 99)}号", reason="重点工作未完成, 暂缓交流")
    return None


def _general(career: Career, rng: random.Random, today: date, rules: RotationRules) -> None:
    t, township = _township(rng)
    person = _register(career, rng, today, f"{township}人民政府")
    since = _between(rng, person.registered, add_months(person.horizon, -3))
    pid = f"T{t:02d}-KY-{career.cadre_id}"
    _assign(career, since, _post(pid, "乡镇机关干部", f"{township}人民政府", township,
                                                          "clerk", False), kind="lateral")
    years = rules.township_years or 8
    while True:
        due = add_years(since, years)
        if rng.random() < 0.15 and add_years(since, 3) < min(due, person.horizon):
            # promoted to a deputy head of the township before the limit (提拔为副乡镇长): an elected post, so no
            # probation
            day = _between(rng, add_years(since, 2), min(due - timedelta(days=30), person.horizon))
            lead = f"T{t:02d}-FZZ-{career.cadre_id}"
            _assign(career, day, _post(lead, "副乡镇长", f"{township}人民政府", township,
                                                                "deputy_section", True, principal=False),
                       kind="promotion", exemption_reason=EXEMPTION)
            career.add(f"/v1/posts/{pid}/vacate", day, reason="promotion")
            pid = lead
            break
        if due > person.horizon:
            break
        t2, town2 = _township(rng, other_than=township)
        pid2 = f"T{t2:02d}-KY-{career.cadre_id}"
        rotated = _rotate_or_leave(career, rng, pid, due, person.horizon, "township_8y",
                                   _post(pid2, "乡镇机关干部", f"{town2}人民政府", town2, "clerk", False))
        if rotated is None:
            break
        since, pid, township, t = rotated, pid2, town2, t2
    _retire(career, person, today, pid)


def _leader(career: Career, rng: random.Random, today: date, rules: RotationRules) -> None:
    t, township = _township(rng)
    person = _register(career, rng, today, f"{township}人民政府")
    since = _between(rng, max(person.registered, add_years(person.born, 30)), add_months(person.horizon, -3))
    pid = f"T{t:02d}-FSJ-{career.cadre_id}"
    _assign(career, since, _post(pid, "乡镇党委副书记", f"中共{township}委员会", township,
                                                          "deputy_section", True, principal=False),
               kind="promotion", exemption_reason=EXEMPTION)
    step_up = add_years(since, rng.randint(3, 7))
    if rng.random() < 0.5 and step_up <= person.horizon:
        top = f"T{t:02d}-SJ-{career.cadre_id}"
        _assign(career, step_up, _post(top, "乡镇党委书记", f"中共{township}委员会",
                                                                township, "section", True, principal=True),
                   kind="promotion", exemption_reason=EXEMPTION)
        career.add(f"/v1/posts/{pid}/vacate", step_up, reason="promotion")
        pid, since = top, step_up
    due = add_years(since, rules.leader_same_post_years or 10)
    if due <= person.horizon:
        t2, town2 = _township(rng, other_than=township)
        role = pid.split("-")[1]
        to = _post(f"T{t2:02d}-{role}-{career.cadre_id}", "乡镇党委书记" if role == "SJ" else "乡镇党委副书记",
                   f"中共{town2}委员会", town2, "section" if role == "SJ" else "deputy_section", True,
                   principal=role == "SJ")
        if _rotate_or_leave(career, rng, pid, due, person.horizon, "leader_same_post_10y", to):
            pid = to["post_id"]
    _retire(career, person, today, pid)


def _department(career: Career, rng: random.Random, today: date, rules: RotationRules) -> None:
    d = rng.randrange(len(DEPARTMENTS))
    person = _register(career, rng, today, DEPARTMENTS[d])
    since = _between(rng, max(person.registered, add_years(person.born, 28)), add_months(person.horizon, -3))
    sensitive = rng.random() < 0.4
    pid = f"D{d}-{'CW' if sensitive else 'BG'}-{career.cadre_id}"
    _assign(career, since, _post(pid, "财务股股长" if sensitive else "办公室主任",
                                                          DEPARTMENTS[d], None, "deputy_section", True,
                                                          internal_unit=True, sensitive=sensitive, principal=False),
            kind="promotion", exemption_reason=EXEMPTION)
    # an internal unit's leadership post (内设机构领导职务) is on 第四十三条's list: the year's trial applies
    end = add_months(since, rules.probation_months)
    if end <= person.horizon:
        career.add(f"/v1/posts/{pid}/probation/conclude", end, outcome="confirmed")
    due = add_years(since, rules.internal_unit_years or 10)
    if due <= person.horizon:
        d2 = rng.choice([k for k in range(len(DEPARTMENTS)) if k != d])
        to = _post(f"D{d2}-BG-{career.cadre_id}", "办公室主任", DEPARTMENTS[d2], None, "deputy_section", True,
                   internal_unit=True, principal=False)
        if _rotate_or_leave(career, rng, pid, due, person.horizon, "internal_unit_10y", to):
            pid = to["post_id"]
    _retire(career, person, today, pid)


def plan(cadres: int, seed: int, today: date) -> list[Career]:
    """Every demo cadre's career (deterministic for a seed and a day)."""
    rng = random.Random(seed)
    rules = ruleset_for(COUNTY, today).rotation
    careers = []
    for n in range(1, cadres + 1):
        career = Career(f"GY{n:04d}")
        roll = rng.random()
        kind = _general if roll < 0.72 else _leader if roll < 0.9 else _department
        kind(career, rng, today, rules)
        careers.append(career)
    return careers


def load_rotation_demo(url: str, post: Post, cadres: int = 400, seed: int = 431021,
                       today: date | None = None) -> int:
    """Record the careers through the rotation service at `url`; returns the events recorded.

    About 3 000 commands for 400 cadres, a few seconds on a laptop. Returns 0 when the demo is
    already loaded.
    """
    careers = plan(cadres, seed, today or date.today())
    first = careers[0].steps[0]
    try:
        post(f"{url}{first.path}?wait=committed", first.body)
    except RuntimeError as exc:
        if "cadre.register_once" in str(exc):
            return 0
        raise
    count = 1
    phases = max(c.phase for c in careers) + 1
    for phase in range(phases):
        def run(career: Career, phase: int = phase) -> int:
            done = 0
            for step in career.steps:
                if step.phase == phase and step is not first:
                    post(f"{url}{step.path}?wait=committed", step.body)
                    done += 1
            return done

        with ThreadPoolExecutor(WORKERS) as pool:
            count += sum(pool.map(run, careers))
        count += _settle(url, post)
    return count


def _settle(url: str, post: Post) -> int:
    """Scan until two scans in a row record nothing: the ledger's read models lag the commands briefly."""
    recorded, quiet = 0, 0
    time.sleep(1.0)
    while quiet < 2:
        emitted = len(post(f"{url}/v1/rotation/scan", {})["emitted"])
        recorded += emitted
        quiet = 0 if emitted else quiet + 1
        time.sleep(0.5)
    return recorded
