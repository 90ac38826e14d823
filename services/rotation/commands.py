"""Commands of the rotation service (任用与交流): request bodies and the commands they become. Pure."""

from __future__ import annotations

import unicodedata
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.decisions import CadreCommand
from shared.events.rotation import (
    BirthMonth,
    Commitment,
    Elected,
    Level,
    PostFields,
    PostKind,
    Principal,
    ProbationOutcome,
    RotationRule,
    Sex,
    Trigger,
    VacateReason,
)
from shared.events.types import ONE_LINE, Identifier, LongText, ShortText, shows_something
from shared.personal import resident_id_birth_month, resident_id_problem, resident_id_sex

# ---- registration ---------------------------------------------------------------------------


class Registration(CadreCommand):
    """Body of `register a cadre` (干部登记). Name and ID number never enter the ledger in clear."""

    name: str = Field(min_length=1, max_length=64, description="Name (姓名); kept outside the ledger, erasable.")
    sex: Sex = Field(description="male (男) or female (女); must match the ID number.")
    birth_month: BirthMonth = Field(description="YYYY-MM (出生年月); must match the ID number.")
    id_number: str = Field(description="18-character resident ID (公民身份号码); kept outside the ledger, erasable.")
    work_start: date = Field(description="Date the cadre started work (参加工作时间).")
    unit: ShortText = Field(description="Unit at registration (所在单位).")

    @field_validator("name")
    @classmethod
    def _readable_name(cls, value: str) -> str:
        # Control and format characters (zero-width spaces, right-to-left overrides) would make the name that
        # clerks see differ from the one committed to; a name of spaces is none.
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
            raise ValueError("a name must not contain control or invisible formatting characters (姓名含不可见字符)")
        if not shows_something(value):
            raise ValueError("a name must have a visible character (姓名为空)")
        return value

    @field_validator("work_start")
    @classmethod
    def _started_before_registration(cls, value: date, info: ValidationInfo) -> date:
        registered = info.data.get("occurred_on")
        if registered is not None and value > registered:
            raise ValueError(f"work start {value} is after the registration on {registered} (参加工作时间晚于登记日期)")
        born = info.data.get("birth_month")
        if born is not None and value.isoformat()[:7] <= born:
            raise ValueError(f"work start {value} is not after the birth month {born} (参加工作时间早于出生年月)")
        return value

    @field_validator("id_number")
    @classmethod
    def _valid_resident_id(cls, value: str, info: ValidationInfo) -> str:
        problem = resident_id_problem(value)
        if problem is None and info.data.get("birth_month") not in (None, resident_id_birth_month(value)):
            problem = "birth_month does not match the ID number (出生年月与身份证号不符)"
        if problem is None and info.data.get("sex") not in (None, resident_id_sex(value)):
            problem = "sex does not match the ID number (性别与身份证号不符)"
        if problem is not None:
            raise ValueError(problem)
        return value


class RegisterCadre(CadreCommand):
    """The command the domain sees: the person only as commitments."""

    name_commitment: Commitment
    id_number_commitment: Commitment
    sex: Sex
    birth_month: BirthMonth
    work_start: date
    unit: ShortText


# ---- postings -------------------------------------------------------------------------------


class Assignment(CadreCommand):
    """Body of `assign a post` (任职). `occurred_on` is the decision date, from which tenure counts."""

    post: ShortText = Field(description="Post title (职务), e.g. 某镇党委副书记.")
    unit: ShortText = Field(description="Unit (单位).")
    township: ShortText | None = Field(None, description="Township (乡镇) when the post is in one.")
    level: Level = Field(description="clerk 科员, deputy_section 副科级, section 正科级, deputy_division 副处级, "
                         "division 正处级.")
    leadership: bool = Field(description="A leadership post (领导职务).")
    internal_unit: bool = Field(False, description="A leader of an internal unit (内设机构领导).")
    sensitive: bool = Field(False, description="A sensitive post (重要岗位): personnel, finance, audit...")
    principal: Principal = None
    elected: Elected = None
    kind: PostKind = Field(description="promotion 提拔, lateral 平级转任, demotion 降职, rotation 交流, election 选举, "
                           "out_of_sequence 破格提拔. lateral and rotation may not raise the rank; an election that "
                           "raises it is held to the promotion rules.")
    notice_id: Identifier | None = Field(None, description="For a promotion (or an election that raises the rank): the "
                                         "notice closed as clear (任前公示). Another posting may name one too; it "
                                         "is then held to the same check (posting.notice_cleared).")
    exemption_reason: ShortText | None = Field(None, description="For a promotion (or an election that raises the "
                                               "rank) without a notice: why (免于公示).")


class AssignPost(Assignment):
    """The command: take post `post_id`."""

    post_id: Identifier


class Vacation(CadreCommand):
    """Body of `vacate a post` (免职)."""

    reason: VacateReason = Field(description="rotation, promotion, age_limit, term_end, dismissal, demotion, "
                                 "resignation, probation_failed, death.")


class VacatePost(Vacation):
    """The command: leave post `post_id`."""

    post_id: Identifier


class ProbationConclusion(CadreCommand):
    """Body of `conclude probation` (试用期满考核)."""

    outcome: ProbationOutcome = Field(description="confirmed 正式任职, removed 免去试任职务, ended_early 提前结束.")
    reason: LongText | None = Field(None, description="Why (理由); required when ended early.")


class ConcludeProbation(ProbationConclusion):
    """The command: conclude the probation of post `post_id`."""

    post_id: Identifier


# ---- rotation -------------------------------------------------------------------------------


class Deferral(CadreCommand):
    """Body of `defer a due rotation` (暂缓交流). The approval reference is mandatory (rule, not schema)."""

    rule: RotationRule = Field(description="The rule that fell due (到期规则).")
    until: date = Field(description="Deferred until (暂缓至).")
    # One line, as the event's ShortText: left free, a control character, a bidirectional control or a zero-width
    # space passed here and failed when the event was made (a 500). Blank stays allowed here: the rule
    # `rotation.deferral_approval_required` names what is missing better than a pattern would.
    approval_reference: str | None = Field(None, max_length=200, pattern=ONE_LINE,
                                           description="Approval document (批准文号).")
    reason: LongText = ""


class DeferRotation(Deferral):
    """The command: defer the rotation due for post `post_id` under `rule`."""

    post_id: Identifier


class RotationCompletion(CadreCommand):
    """Body of `complete a rotation` (交流): leave the post, take another, in one event."""

    to: PostFields = Field(description="The post taken (新职务).")
    trigger_rule: Trigger | None = Field(
        None, description="The due rule this carries out, or by_need (工作需要); default: the earliest due one.")


class CompleteRotation(RotationCompletion):
    """The command: rotate away from post `post_id`."""

    post_id: Identifier


class RaiseDue(BaseModel):
    """The scheduler's command: record that `rule` fell due for a held post (到期应交流)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cadre_id: str
    post_id: str
    rule: RotationRule


class Erasure(CadreCommand):
    """Body of `erase personal data` (删除个人信息): the clear values go, the commitments stay."""

    reason: ShortText = Field(description="Why (删除事由).")
    reference: ShortText = Field(description="The decision or request reference (批准文号/申请编号).")
