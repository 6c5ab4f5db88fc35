-- psql -d <a copy of the bench's 10k PostgreSQL database> -f scripts/hr_clone_100k.sql (never on a real site)
-- Ten times the 10k seed's learners, as the HR pages read them: the accounts and their
-- summary rows (learner_summary, learner_module_summary), copied nine times with new ids.
BEGIN;
CREATE TEMP TABLE u0 AS SELECT * FROM users WHERE role = 'trainee';
CREATE TEMP TABLE s0 AS SELECT s.* FROM learner_summary s JOIN u0 ON u0.id = s.user_id;
CREATE TEMP TABLE m0 AS SELECT m.* FROM learner_module_summary m JOIN u0 ON u0.id = m.user_id;
INSERT INTO users (id, username, display_name, employee_id, branch, role, password_hash, active,
  must_change_password, session_version, created_at, last_login_at, first_active_at)
SELECT id + k * 1000000, username || '-' || k, display_name, employee_id || '-' || k, branch,
  role, password_hash, active, must_change_password, session_version, created_at,
  last_login_at, first_active_at
FROM u0, generate_series(1, 9) AS k;
INSERT INTO learner_summary
SELECT s0.user_id + k * 1000000, learner, s0.username || '-' || k, display_name,
  s0.employee_id || '-' || k, branch, cohort_id, cohort_name, due_date, cert_cycle,
  certificate_code, expires_at, revoked_at, first_active_at, last_active_at, lessons_done,
  quizzes_passed, cases_counted, modules_done, last_reminder_at
FROM s0, generate_series(1, 9) AS k;
INSERT INTO learner_module_summary
SELECT m0.user_id + k * 1000000, module_slug, opened, lessons_done, quiz_passed
FROM m0, generate_series(1, 9) AS k;
COMMIT;
ANALYZE;
SELECT count(*) FROM learner_summary WHERE learner;
