"""Notes and tasks on the case page (their JSON, for static/staff-notes.js), and the account's notifications page.

The page's script encrypts a note or a task's title with the report key before it is sent, and decrypts them after
the officer unlocks the report; these routes carry ciphertext, never text. Writes need the CSRF token in the
`X-CSRF-Token` header (JSON) or the form (marking notifications read).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tnrwatch.services import case_notes, notifications
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.public.schemas import B64
from tnrwatch.web.staff.session import csrf_form, csrf_header, render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: uuid.UUID
    ciphertext: B64


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: uuid.UUID
    title: B64
    assignee: str | None = Field(None, max_length=64)
    due_on: dt.date | None = None


class TaskMarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    done: bool


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _note_json(note: case_notes.NoteOut) -> dict[str, Any]:
    return {
        "id": str(note.id),
        "author": note.author,
        "created_at": note.created_at.isoformat(),
        "ciphertext": _b64(note.ciphertext),
    }


def _task_json(task: case_notes.TaskOut) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "created_by": task.created_by,
        "created_at": task.created_at.isoformat(),
        "title": _b64(task.title),
        "assignee": task.assignee,
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "done": task.done,
        "marked_by": task.marked_by,
        "marked_at": task.marked_at.isoformat() if task.marked_at else None,
        "overdue": task.overdue,
    }


@router.get("/app/api/reports/{report_id}/notes", dependencies=[staff_permits("report:read")])
def notes_json(
    request: Request, report_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> dict[str, Any]:
    found = case_notes.case_notes(_node(request), principal, report_id)
    return {
        "notes": [_note_json(note) for note in found.notes],
        "tasks": [_task_json(task) for task in found.tasks],
        "writable": found.writable,
        "assignees": list(found.assignees),
    }


@router.post(
    "/app/api/reports/{report_id}/notes",
    status_code=201,
    dependencies=[staff_permits("case:work"), Depends(csrf_header)],
)
def add_note(
    request: Request, report_id: uuid.UUID, body: NoteIn, principal: Principal = Depends(staff_principal)
) -> dict[str, Any]:
    note = case_notes.add_note(_node(request), principal, report_id, body.id, body.ciphertext)
    return {"ok": True, **_note_json(note)}


@router.post(
    "/app/api/reports/{report_id}/tasks",
    status_code=201,
    dependencies=[staff_permits("case:work"), Depends(csrf_header)],
)
def add_task(
    request: Request, report_id: uuid.UUID, body: TaskIn, principal: Principal = Depends(staff_principal)
) -> dict[str, Any]:
    task = case_notes.add_task(
        _node(request), principal, report_id, body.id, body.title, assignee=body.assignee or None, due_on=body.due_on
    )
    return {"ok": True, **_task_json(task)}


@router.post(
    "/app/api/reports/{report_id}/tasks/{task_id}", dependencies=[staff_permits("case:work"), Depends(csrf_header)]
)
def mark_task(
    request: Request,
    report_id: uuid.UUID,
    task_id: uuid.UUID,
    body: TaskMarkIn,
    principal: Principal = Depends(staff_principal),
) -> dict[str, Any]:
    task = case_notes.mark_task(_node(request), principal, report_id, task_id, body.done)
    return {"ok": True, **_task_json(task)}


class TaskAssigneeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    assignee: str | None = Field(None, max_length=64)  # a username of the jurisdiction, or null for nobody


@router.post(
    "/app/api/reports/{report_id}/tasks/{task_id}/assignee",
    dependencies=[staff_permits("case:work"), Depends(csrf_header)],
)
def reassign_task(
    request: Request,
    report_id: uuid.UUID,
    task_id: uuid.UUID,
    body: TaskAssigneeIn,
    principal: Principal = Depends(staff_principal),
) -> dict[str, Any]:
    task = case_notes.reassign_task(_node(request), principal, report_id, task_id, body.assignee or None)
    return {"ok": True, **_task_json(task)}


# -- notifications -----------------------------------------------------------------------------------------------------


@router.get("/app/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    found = notifications.list_notifications(_node(request), principal)
    return render_staff(request, "staff/notifications.html", {"principal": principal, "notifications": found})


@router.post("/app/notifications/read", dependencies=[Depends(csrf_form)])
def mark_notifications_read(request: Request, principal: Principal = Depends(staff_principal)) -> Response:
    notifications.mark_all_read(_node(request), principal)
    return RedirectResponse("/app/notifications", status_code=303)
