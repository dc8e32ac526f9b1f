"""New / edit agent: a form with inline validation messages; code pasted or uploaded."""

import streamlit as st

from core import registry
from core.errors import ValidationError
from core.models import Source
from core.registry import validation
from dashboard.agent_detail import EDIT_KEY, open_agent
from dashboard.db import reading, writing
from dashboard.feedback import notify_after_rerun, showing_errors
from dashboard.identity import CREATORS, require_role

user = require_role(CREATORS)
editing = st.session_state.get(EDIT_KEY)
current = {"name": "", "description": "", "model": "", "system_prompt": "", "tools": [], "code": ""}
if editing:
    with showing_errors() as attempt, reading() as session:
        agent = registry.get_agent(session, agent_id=editing)
        current = registry.agent_summary(agent) | {
            "system_prompt": agent.system_prompt,
            "code": agent.code,
        }
    if not attempt.ok:
        st.session_state.pop(EDIT_KEY, None)
        st.stop()
    st.title(f"Edit agent #{editing}")
    if st.button("Create a new agent instead", key="form_new_instead"):
        st.session_state.pop(EDIT_KEY, None)
        st.rerun()
else:
    st.title("New agent")
    st.caption("Saved as a draft; submit it for approval from its page.")

CHECKS = {  # field → (core validation, label)
    "name": validation.clean_name,
    "description": validation.clean_description,
    "model": validation.clean_model,
    "system_prompt": validation.clean_prompt,
    "tools": validation.clean_tools,
    "code": validation.clean_code,
}
prefix = f"agent_form_{editing or 'new'}"

with st.form(prefix):
    name = st.text_input("Name", value=current["name"], key=f"{prefix}_name")
    slots = {"name": st.empty()}
    description = st.text_area(
        "Description",
        value=current["description"],
        help="What the agent does, for whom; search uses this text.",
        key=f"{prefix}_description",
    )
    slots["description"] = st.empty()
    model = st.text_input(
        "Model", value=current["model"], placeholder="gpt-4o", key=f"{prefix}_model"
    )
    slots["model"] = st.empty()
    system_prompt = st.text_area(
        "System prompt", value=current["system_prompt"], key=f"{prefix}_system_prompt"
    )
    slots["system_prompt"] = st.empty()
    tools = st.text_input(
        "Tools (comma-separated)", value=", ".join(current["tools"]), key=f"{prefix}_tools"
    )
    slots["tools"] = st.empty()
    code = st.text_area("Code (paste)", value=current["code"], height=200, key=f"{prefix}_code")
    upload = st.file_uploader(
        "…or upload a code file", type=["py", "js", "ts", "txt", "yaml", "yml", "json"]
    )
    slots["code"] = st.empty()
    submitted = st.form_submit_button("Save agent" if editing else "Create agent", type="primary")

if submitted:
    values = {
        "name": name,
        "description": description,
        "model": model,
        "system_prompt": system_prompt,
        "tools": tools,
        "code": upload.getvalue() if upload is not None else code,
    }
    problems = {}
    for field, check in CHECKS.items():
        try:
            check(values[field])
        except ValidationError as error:
            problems[field] = str(error)
    for field, message in problems.items():
        slots[field].error(message, icon=":material/error:")
    if problems:
        st.error("Fix the fields marked above; nothing was saved.")
    else:
        code_filename = upload.name if upload is not None else None
        with showing_errors() as attempt, writing() as session:
            if editing:
                saved = registry.update_agent(
                    session,
                    agent_id=editing,
                    actor_email=user.email,
                    source=Source.DASHBOARD,
                    **values,
                    **({"code_filename": code_filename} if code_filename else {}),
                )
            else:
                saved = registry.create_agent(
                    session,
                    owner_email=user.email,
                    source=Source.DASHBOARD,
                    code_filename=code_filename,
                    **values,
                )
            saved_id = saved.id
        if attempt.ok:
            st.session_state.pop(EDIT_KEY, None)
            notify_after_rerun(f"Agent {saved_id} {'saved' if editing else 'created'}.")
            open_agent(saved_id)
