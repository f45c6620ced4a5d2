-- The staff roles the municipalities asked for: besides tenant administrators, editors and viewers,
-- approvers (who publish what editors write), health officers (maternal-child and health records)
-- and disaster officers (alerts, shelters).
alter table identity.staff_roles drop constraint staff_roles_role_check;
alter table identity.staff_roles add constraint staff_roles_role_check
  check (role in ('admin', 'editor', 'approver', 'health-officer', 'disaster-officer', 'viewer'));
