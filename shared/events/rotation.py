"""Events of the rotation service: the cadre registry, postings, probation and rotation (任用与交流)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from shared.events.assessment import CLEARING
from shared.events.registry import EventData, event_type, holding, premise, source
from shared.events.types import Day, Identifier, LongText, ShortText

Commitment = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A salted SHA-256 commitment, hex (see shared.personal)."""

Sex = Literal["male", "female"]
Level = Literal["clerk", "deputy_section", "section", "deputy_division", "division"]
"""Rank of a post, lowest first: 科员及以下, 副科级, 正科级, 副处级, 正处级."""
LEVEL_ORDER: tuple[str, ...] = ("clerk", "deputy_section", "section", "deputy_division", "division")
LEVEL_ZH = {"clerk": "科员", "deputy_section": "副科级", "section": "正科级", "deputy_division": "副处级",
            "division": "正处级"}

PostKind = Literal["promotion", "lateral", "demotion", "rotation", "election", "out_of_sequence"]
"""How a post was taken: 提拔, 平级转任, 降职, 交流, 选举, 破格提拔."""
VacateReason = Literal["rotation", "promotion", "age_limit", "term_end", "dismissal", "demotion", "resignation",
                       "probation_failed", "death"]
ProbationOutcome = Literal["confirmed", "removed", "ended_early"]
RotationRule = Literal["township_8y", "leader_same_post_10y", "internal_unit_10y", "sensitive_post_10y"]
"""乡镇任职满8年 (local), 同一职位满10年 (leaders), 内设机构领导满10年, 重要岗位满10年."""
RULE_ZH = {"township_8y": "乡镇一般干部同一乡镇任职年限", "leader_same_post_10y": "领导干部同一职位任职年限",
           "internal_unit_10y": "内设机构领导同一职位任职年限", "sensitive_post_10y": "重要岗位任职年限"}
Trigger = Literal["township_8y", "leader_same_post_10y", "internal_unit_10y", "sensitive_post_10y", "by_need"]
"""Why a rotation happened: a tenure rule that fell due, or organisational need (工作需要)."""

BirthMonth = Annotated[str, StringConstraints(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$")]


@event_type("cadre.registered", "rotation", "干部登记", "Cadre registered", correctable=False)
class CadreRegistered(EventData):
    name_commitment: Commitment = Field(description="Salted commitment to the name (姓名承诺值); clear value "
                                        "kept outside the ledger, erasable.")
    id_number_commitment: Commitment = Field(description="Salted commitment to the resident ID (身份证号承诺值).")
    commitment_scheme: Literal["sha256-salted-v1"] = Field(
        "sha256-salted-v1", description="SHA-256(32-byte salt || UTF-8 NFC value), hex.")
    sex: Sex
    birth_month: BirthMonth = Field(description="YYYY-MM (出生年月).")
    work_start: Day = Field(description="Date the cadre started work (参加工作时间).")
    unit: ShortText = Field(description="Unit at registration (所在单位).")


@event_type("person.erased", "rotation", "个人信息删除", "Personal data erased", correctable=False)
class PersonErased(EventData):
    """The clear name and ID number behind `cadre.registered` were erased; the commitments stay."""

    reason: ShortText = Field(description="Why (删除事由), e.g. a request under the Personal Information "
                              "Protection Law (个人信息保护法) art. 47.")
    reference: ShortText = Field(description="The decision or request reference (批准文号/申请编号).")


Principal = Annotated[StrictBool | None, Field(
    description="For a leadership post: the unit's principal leader (正职, 主要领导), whose departure needs an "
                "economic responsibility audit (离任经济责任审计, DOMAIN rule 9); false: a deputy's or another "
                "leadership post (副职). Left out: not stated, and counted as a principal's (older records).")]

Elected = Annotated[StrictBool | None, Field(
    description="A post filled by election (选举产生的职务): e.g. 乡镇长 and 副乡镇长, elected by the township "
                "people's congress, or 乡镇党委书记 and 副书记, elected by the Party committee. A promotion to it "
                "starts no probation: the 任职试用期 of 选拔任用工作条例 (2019) 第四十三条 is for 非选举产生的领导职务 "
                "only. false: filled by appointment (委任). Left out: not stated, read as not elected (a promotion "
                "keeps its probation; older records). A posting of kind election is to an elected post.")]

ELECTED_ZH: dict[bool | None, str] = {True: "选举产生", False: "委任", None: "未说明"}
"""How a post is filled, as read models show `elected`: 选举产生 (true), 委任 (false), 未说明 (not stated)."""


class PostFields(EventData):
    """What a post is: the fields a posting and a rotation's destination share."""

    post_id: Identifier = Field(description="Id of the position (职位编号), stable across holders.")
    post: ShortText = Field(description="Post title (职务), e.g. 某镇党委副书记.")
    unit: ShortText = Field(description="Unit (单位).")
    township: ShortText | None = Field(None, description="Township (乡镇) when the post is in one.")
    level: Level = Field(description="Rank (职级): clerk 科员, deputy_section 副科级, section 正科级, "
                         "deputy_division 副处级, division 正处级.")
    leadership: StrictBool = Field(description="A leadership post (领导职务).")
    internal_unit: StrictBool = Field(False, description="A leader of an internal unit (内设机构领导).")
    sensitive: StrictBool = Field(False, description="A sensitive post: personnel, finance, audit... (重要岗位).")
    principal: Principal = None
    elected: Elected = None


# A post is held from its posting or from the rotation that led to it until a vacate of it or a rotation from it,
# and held once at a time (posting.already_held, rotation.same_post).
POST_HELD = holding("post", taken_by=(source("post.assigned", "post_id"), source("rotation.completed", "to.post_id")),
                    left_by=(source("post.vacated", "post_id"), source("rotation.completed", "from_post_id")))


@event_type("post.assigned", "rotation", "任职", "Post assigned",
            rests_on=(premise("notice_id", source("notice.closed", "notice_id",
                                                  outcome=CLEARING)),))
class PostAssigned(PostFields):
    kind: PostKind = Field(description="promotion 提拔, lateral 平级转任, demotion 降职, rotation 交流, "
                           "election 选举, out_of_sequence 破格提拔.")
    decision_date: Day = Field(description="Date of the appointment decision (任职决定日期); tenure counts from it.")
    probation_end: Day | None = Field(None, description="End of probation (试用期满), for a promotion to a "
                                      "non-elected leadership post (非选举产生的领导职务).")
    notice_id: Identifier | None = Field(None, description="The pre-appointment notice cleared for it (任前公示).")
    exemption_reason: ShortText | None = Field(None, description="Why a promotion had no notice (免于公示的理由).")


@event_type("post.vacated", "rotation", "免职", "Post vacated", rests_on=(premise("post_id", *POST_HELD.taken_by),))
class PostVacated(EventData):
    post_id: Identifier
    reason: VacateReason = Field(description="rotation 交流, promotion 提拔, age_limit 到龄, term_end 任期届满, "
                                 "dismissal 免职, demotion 降职, resignation 辞职, probation_failed 试用不合格, "
                                 "death 去世.")


@event_type("probation.concluded", "rotation", "试用期满考核", "Probation concluded",
            rests_on=(premise("post_id", ("post.assigned", "post_id")),))
class ProbationConcluded(EventData):
    post_id: Identifier
    outcome: ProbationOutcome = Field(description="confirmed 正式任职, removed 免去试任职务, ended_early 提前结束.")
    reason: LongText | None = Field(None, description="Why (理由); required when ended early.")


# Not correctable: the scheduler raises it from the postings under a deterministic id, so a revoked one would be
# raised again (as a duplicate id); a wrong posting is what to correct.
@event_type("rotation.due", "rotation", "到期应交流", "Rotation due", correctable=False)
class RotationDue(EventData):
    post_id: Identifier
    rule: RotationRule
    since: Day = Field(description="Start of the tenure the rule counts (任职起算日).")
    years: StrictInt = Field(ge=1, description="The rule's limit in years under the rule set (年限).")
    due_on: Day = Field(description="The day the limit was reached (到期日).")
    overdue_on: Day = Field(description="From this day on, an undeferred rotation is overdue (逾期日).")


@event_type("rotation.deferred", "rotation", "暂缓交流", "Rotation deferred",
            rests_on=(premise("post_id", *POST_HELD.taken_by),))
class RotationDeferred(EventData):
    post_id: Identifier
    rule: RotationRule
    until: Day = Field(description="Deferred until (暂缓至).")
    approval_reference: ShortText = Field(description="Approval document reference (批准文号); mandatory.")
    reason: LongText = ""


@event_type("rotation.completed", "rotation", "交流完成", "Rotation completed",
            rests_on=(premise("from_post_id", *POST_HELD.taken_by),))
class RotationCompleted(EventData):
    from_post_id: Identifier
    from_post: ShortText = Field(description="Title of the post left (原职务).")
    from_township: ShortText | None = None
    to: PostFields = Field(description="The post taken (新职务).")
    decision_date: Day = Field(description="Date of the rotation decision (交流决定日期).")
    years_in_old_post: StrictInt = Field(ge=0, description="Completed years in the old post (原岗位任职年限).")
    days_in_old_post: StrictInt = Field(ge=0, description="Days in the old post (原岗位任职天数).")
    trigger_rule: Trigger = Field(description="The rule that made it due, or by_need (工作需要).")
