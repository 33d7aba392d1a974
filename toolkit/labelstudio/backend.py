"""``toolkit serve``: an ML backend Label Studio can connect to (the label-studio-ml-backend protocol).

Routes: ``GET /health`` (also ``/``), ``POST /setup``, ``POST /predict``, ``POST /webhook``,
``POST /train``, ``GET /versions``, ``GET /metrics``. Standard library only (``http.server``).

Decisions:

* **Predictions** come from ``start_model`` (the command's model: ``--model``, ``$TOOLKIT_MODEL``,
  the project's trained model or the shipped one, :func:`toolkit.project.choose_model`), else from
  the model file if it exists, else from the shipped model; after a retrain, from the model file.
  Guesses for the whole corpus are computed once per model, so ``/predict`` is a lookup. A task whose sentence id
  is not in the corpus is predicted from its ``data.text`` and ``data.heading``. A report task
  (:mod:`toolkit.labelstudio.reports`) gets one region per sentence with its confidence, scored by
  its least confident sentence; its sentences not in the corpus are predicted from the task's own
  text, headings and order. ``/health`` counts the tasks predicted (``predicted_tasks``).
* **Annotation events** (``ANNOTATION_CREATED/UPDATED/DELETED``) are counted and acknowledged,
  nothing more: one annotation seen alone cannot be resolved against the other annotators (ground
  truth, majority, conflicts), so labels reach ``annotations/`` only through the audited import
  (``toolkit ls pull``, or a training request below). Deleting an annotation never deletes a label.
  Label Studio's "Start model training on annotation submission" setting turns submissions into
  training requests when wanted.
* **The corpus** is read again at every retrain, so reports pushed since the backend started
  (copied into the corpus by ``toolkit ls push``) are trained on and predicted from the corpus.
* **Training** (``START_TRAINING`` webhook with ``data["project"]["id"]``, or Label Studio's older
  ``POST /train`` with the annotated tasks, which 1.23 still sends unless the
  ``ff_back_dev_1417_start_training_mlbackend_webhooks_250122_long`` flag is on) runs in one
  background worker (:mod:`toolkit.labelstudio.worker`): import the project's annotations into the store (pulling them from Label
  Studio when its URL and key are configured), train on the store, save the model, load it back
  from disk and swap it in. Requests that arrive meanwhile are merged into the next run. A failed
  run keeps the old model and is reported by ``/health``. The import holds the store's lock and
  the save the model's (:func:`toolkit.fileio.locked`); the model a retrain replaces is kept beside
  it (:func:`toolkit.model.replace_model`), and ``toolkit rollback`` puts it back
  (:func:`toolkit.model.rollback_model`; restart ``toolkit serve`` to serve it).
* It binds 127.0.0.1 unless told otherwise, can require HTTP basic auth, refuses bodies over a
  size limit (413) and malformed JSON (400) with a clear message, and keeps serving afterwards.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from toolkit.context import alone_record
from toolkit.corpus import load_reports
from toolkit.errors import ToolkitError, json_problem
from toolkit.labelstudio.config import is_toolkit_config
from toolkit.labelstudio.reports import (is_report_config, is_report_task, low_threshold, records_from_data,
                                         report_prediction, sentence_item)
from toolkit.labelstudio.exports import collect_votes
from toolkit.labelstudio.tasks import Guess, ModelPredictor, Predictor, load_predictor, prediction
from toolkit.labelstudio.worker import BackendOptions, TrainingJob, TrainingWorker
from toolkit.model import shipped_model_path
from toolkit.segment import Report, text_id

DEFAULT_PORT = 9090
DEFAULT_MAX_BODY = 32 * 1024 * 1024
AUTH_USER_ENV = "TOOLKIT_ML_USER"
AUTH_PASSWORD_ENV = "TOOLKIT_ML_PASSWORD"
ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED")

log = logging.getLogger("toolkit.serve")


class RequestError(Exception):
    """A request the backend refuses: HTTP status and a one-line message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def auth_from_env(env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """Basic-auth credentials from ``TOOLKIT_ML_USER``/``TOOLKIT_ML_PASSWORD`` (both or neither)."""
    env = os.environ if env is None else env
    user, password = env.get(AUTH_USER_ENV, ""), env.get(AUTH_PASSWORD_ENV, "")
    if bool(user) != bool(password):
        raise ToolkitError(f"set both {AUTH_USER_ENV} and {AUTH_PASSWORD_ENV} for basic auth, or neither")
    return (user, password) if user else None


def record_from_task(data: Mapping[str, Any]) -> dict:
    """A feature record for a sentence known only from a task's data (not found in the corpus):
    with no heading it is classified by its text alone (:func:`toolkit.context.alone_record`)."""
    text = str(data.get("text") or "")
    heading = str(data.get("heading") or "")
    if not heading:
        return alone_record(text, id=str(data.get("id") or text_id(text)))
    return {"id": str(data.get("id") or text_id(text)), "text": text, "heading": heading, "section": heading,
            "prev": "", "next": "", "position": 0.5, "paragraph_position": 0.5, "is_heading": False,
            "first_paragraph": False, "last_paragraph": False}


def project_id_of(value: Any) -> int | None:
    """Project id from ``{"id": 3, ...}``, ``3`` or Label Studio's ``"3.1700000000"`` uid."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.split(".", 1)[0].isdigit():
        return int(value.split(".", 1)[0])
    return None


class Backend:
    """The model behind the HTTP routes: predictions and status (thread-safe); retraining runs in
    its :class:`~toolkit.labelstudio.worker.TrainingWorker`."""

    def __init__(self, options: BackendOptions, predictor: Predictor | None = None) -> None:
        self.options = options
        self._reports = load_reports(options.corpus_paths)
        self._lock = threading.Lock()
        self._events: Counter = Counter()
        self._predicted = 0
        if predictor is None:
            predictor = load_predictor(options.start_model or (options.model_path if options.model_path.is_file()
                                                               else shipped_model_path()))
        self._install(predictor)
        self._training = TrainingWorker(options, self._install)

    # -- model --------------------------------------------------------------------------------

    def _install(self, predictor: Predictor, reports: Sequence[Report] | None = None) -> None:
        reports = self._reports if reports is None else reports
        guesses = predictor.guess(reports)
        with self._lock:
            self._predictor, self._guesses, self._reports = predictor, guesses, reports

    @property
    def version(self) -> str:
        with self._lock:
            return self._predictor.version

    def predict_tasks(self, tasks: Sequence[Mapping[str, Any]]) -> tuple[list[dict], str]:
        """One prediction per task, in order, and the model version that made them."""
        with self._lock:
            predictor, guesses = self._predictor, self._guesses
        sentence_tasks = [i for i, t in enumerate(tasks) if not is_report_task(t["data"])]
        out: dict[int, Guess | None] = {i: guesses.get(str(tasks[i]["data"].get("id"))) for i in sentence_tasks}
        unknown = [i for i, g in out.items() if g is None and str(tasks[i]["data"].get("text") or "").strip()]
        records = [record_from_task(tasks[i]["data"]) for i in unknown]
        for i, guess in zip(unknown, predictor.guess_records(records) if records else []):
            out[i] = guess
        results = [prediction(out[i] or Guess(None, 0.0), predictor.version) if i in out
                   else self._predict_report(t["data"], predictor, guesses) for i, t in enumerate(tasks)]
        return results, predictor.version

    @staticmethod
    def _predict_report(data: Mapping[str, Any], predictor: Predictor, guesses: Mapping[str, Guess]) -> dict:
        records = records_from_data(data)
        unknown = [r for r in records if r["id"] not in guesses]
        fresh = dict(zip((r["id"] for r in unknown), predictor.guess_records(unknown) if unknown else []))
        threshold = low_threshold(predictor)
        items = []
        for record in records:
            guess = guesses.get(record["id"]) or fresh.get(record["id"]) or Guess(None, 0.0)
            items.append(sentence_item(record, guess.label, guess.score, bool(guess.label) and guess.score < threshold))
        return report_prediction(items, predictor.version)

    # -- routes -------------------------------------------------------------------------------

    def health(self, body: None = None) -> tuple[int, dict]:
        training, queued = self._training.status(), self._training.pending
        with self._lock:
            status = {**training, "predicted_tasks": self._predicted, "queued": queued}
            events = dict(self._events)
            model_class = "SectionModel" if isinstance(self._predictor, ModelPredictor) else "WeakRules"
        return 200, {"status": "UP", "model_class": model_class, "model_version": self.version, **status, "events": events}

    def setup(self, body: dict) -> tuple[int, dict]:
        schema = body.get("schema")
        if isinstance(schema, str) and schema.strip() and not (is_toolkit_config(schema) or is_report_config(schema)):
            raise RequestError(400, "this project's labelling config is not the toolkit's (use 'toolkit ls config')")
        return 200, {"model_version": self.version}

    def predict(self, body: dict) -> tuple[int, dict]:
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in tasks):
            raise RequestError(400, "'tasks' must be a list of tasks, each with a 'data' object")
        config = body.get("label_config")
        if isinstance(config, str) and config.strip() and not (is_toolkit_config(config) or is_report_config(config)):
            raise RequestError(400, "label_config is not the toolkit's labelling config")
        results, version = self.predict_tasks(tasks)
        with self._lock:
            self._predicted += len(tasks)
        return 200, {"results": results, "model_version": version}

    def webhook(self, body: dict) -> tuple[int, dict]:
        action = body.get("action")
        if not isinstance(action, str):
            raise RequestError(400, "webhook payload has no 'action'")
        if action == "START_TRAINING":
            project = project_id_of(body.get("project"))
            if project is None:
                raise RequestError(400, "START_TRAINING payload has no project id in data['project']['id']")
            self._training.submit(TrainingJob(project))
            return 201, {"status": "ok", "training": "queued", "project": project}
        if action in ANNOTATION_EVENTS:
            with self._lock:
                self._events[action] += 1
            return 200, {"status": "ok", "note": "counted; labels reach the store via 'toolkit ls pull' or training"}
        return 200, {"status": "Unknown event"}

    def train(self, body: dict) -> tuple[int, dict]:
        """Label Studio's older training request: the annotated tasks come in the body."""
        tasks = body.get("annotations")
        if not isinstance(tasks, list):
            raise RequestError(400, "'annotations' must be the list of annotated tasks")
        project = project_id_of(body.get("project"))
        try:
            collect_votes(tasks, "/train request", project=project)
        except ToolkitError as exc:
            raise RequestError(400, str(exc)) from None
        self._training.submit(TrainingJob(project, tuple(tasks)))
        return 201, {"status": "ok", "training": "queued"}

    def versions(self, body: None = None) -> tuple[int, dict]:
        return 200, {"versions": [self.version]}

    def metrics(self, body: None = None) -> tuple[int, dict]:
        return 200, {}

    # -- training -----------------------------------------------------------------------------

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until queued training has finished (for tests and shutdown); ``False`` on timeout."""
        return self._training.wait_idle(timeout)

    def close(self, timeout: float = 300.0) -> bool:
        """Stop the training worker after the current run (see :meth:`~toolkit.labelstudio.worker.TrainingWorker.close`)."""
        return self._training.close(timeout)


GET_ROUTES: dict[str, str] = {"/": "health", "/health": "health", "/versions": "versions", "/metrics": "metrics"}
POST_ROUTES: dict[str, str] = {"/setup": "setup", "/predict": "predict", "/webhook": "webhook", "/train": "train"}


class BackendServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the backend, the credentials and the body limit."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: Backend, *, auth: tuple[str, str] | None = None,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        super().__init__(address, BackendHandler)
        self.backend = backend
        self.max_body = max_body
        self.expected_auth = ("Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()) if auth else ""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class BackendHandler(BaseHTTPRequestHandler):
    """Parses one request, calls the backend route, answers JSON."""

    server: BackendServer
    server_version = "toolkit-ml-backend"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch(GET_ROUTES, POST_ROUTES, read_body=False)

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch(POST_ROUTES, GET_ROUTES, read_body=True)

    def _dispatch(self, routes: Mapping[str, str], other: Mapping[str, str], *, read_body: bool) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            self._check_auth()
            if path not in routes:
                raise RequestError(405 if path in other else 404, f"no {self.command} {path} here")
            body = self._read_json() if read_body else None
            route: Callable[[Any], tuple[int, dict]] = getattr(self.server.backend, routes[path])
            status, payload = route(body)
        except RequestError as exc:
            status, payload = exc.status, {"error": exc.message}
        except ToolkitError as exc:
            status, payload = 400, {"error": str(exc)}
        except Exception as exc:  # a bug must not stop the server
            log.exception("internal error on %s %s", self.command, path)
            status, payload = 500, {"error": f"internal error ({type(exc).__name__})"}
        self._send(status, payload)

    def _check_auth(self) -> None:
        expected = self.server.expected_auth
        if expected and not hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode()):
            raise RequestError(401, "HTTP basic auth required: wrong or missing credentials")

    def _read_json(self) -> dict:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise RequestError(411, "chunked bodies are not accepted; send Content-Length")
        try:
            length = int(self.headers.get("Content-Length", ""))
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise RequestError(411, "a POST needs a valid Content-Length") from None
        if length > self.server.max_body:
            self.close_connection = True
            raise RequestError(413, f"request body of {length} bytes is over the {self.server.max_body} byte limit")
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise RequestError(400, "request body is not UTF-8 JSON") from None
        except json.JSONDecodeError as exc:
            raise RequestError(400, f"request body is not valid JSON ({json_problem(exc)})") from None
        if not isinstance(body, dict):
            raise RequestError(400, f"request body must be a JSON object, not {type(body).__name__}")
        return body

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="toolkit"')
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.info("%s %s", self.address_string(), format % args)


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                auth: tuple[str, str] | None = None, max_body: int = DEFAULT_MAX_BODY) -> BackendServer:
    """Bind the backend's HTTP server (port 0 picks a free port); call ``serve_forever`` to run it."""
    try:
        return BackendServer((host, port), backend, auth=auth, max_body=max_body)
    except OSError as exc:
        raise ToolkitError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def serve(server: BackendServer) -> None:
    """Serve until interrupted, then stop the training worker and close the socket."""
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.backend.close()
