//! The grant lifecycle: requested, approved by someone else, or issued as break-glass, each
//! checked before it is signed and audited; revoked fleet-wide through the store.

use super::Gate;
use crate::alert::kinds;
use crate::audit::kind;
use crate::decision::Alert;
use crate::error::{InvalidRequest, Result};
use crate::grant::{self, REVOCATION_KEEP_MS};
use crate::model::{Employee, Grant};
use crate::time::Timestamp;

fn summary(g: &Grant) -> String {
    serde_json::json!({
        "grantee": g.grantee, "customer": g.customer, "fields": g.fields,
        "purpose": g.purpose, "kind": g.kind, "approver": g.approver,
        "issued_at": g.issued_at, "expires_at": g.expires_at,
        "reason": g.reason, "incident": g.incident,
    })
    .to_string()
}

impl Gate {
    /// Records a request for an `approved` grant and returns it signed as pending: it
    /// reveals nothing until a supervisor approves it, and lapses after 12 h.
    pub fn request_grant(&self, grant: Grant) -> Result<Grant> {
        let g = grant::pending(grant, Timestamp::now())?;
        self.check_fields(&g)?;
        self.issue(g, kind::GRANT_REQUESTED)
    }

    /// Approves a pending request signed by this fleet. Refused for self-approval, an
    /// approver without `supervisor` (in `approver`, the approving employee's facts), a
    /// grant that is not pending, a lapsed request, or a lifetime past 8 h.
    pub fn approve_grant(&self, grant: Grant, approver: &Employee) -> Result<Grant> {
        if !self.inner.grant_keys.verify(&grant) {
            return Err(InvalidRequest::new(
                "grant.signature",
                "is not a request signed by this fleet's grant keys",
            )
            .into());
        }
        self.not_suspended("approver.id", &approver.id)?;
        let g = grant::approved(grant, approver, Timestamp::now())?;
        self.issue(g, kind::GRANT_APPROVED)
    }

    /// Issues a break-glass grant (reason and incident id required, at most 1 h). It is
    /// audited here and raises a `break_glass` alert at every use.
    pub fn issue_break_glass(&self, grant: Grant) -> Result<Grant> {
        let g = grant::break_glass(grant, Timestamp::now())?;
        self.check_fields(&g)?;
        let issued = self.issue(g, kind::BREAK_GLASS)?;
        if let Some(d) = &self.inner.alerts {
            d.send_event(Alert {
                kind: kinds::BREAK_GLASS.into(),
                message: format!(
                    "break-glass grant `{}` issued to `{}` for customer `{}` (incident {}): {}",
                    issued.id,
                    issued.grantee,
                    issued.customer,
                    issued.incident.as_deref().unwrap_or("none"),
                    issued.reason
                ),
                severity: crate::detect::severity(kinds::BREAK_GLASS, 1),
                occurrence: 0,
            });
        }
        Ok(issued)
    }

    /// Revokes a grant: refused at the next decision on every gate sharing the store.
    pub fn revoke_grant(&self, grant_id: &str) -> Result<()> {
        crate::model::nonempty("grant_id", grant_id)?;
        let until = Timestamp::from_millis(Timestamp::now().millis() + REVOCATION_KEEP_MS)
            .unwrap_or_else(Timestamp::now);
        self.inner.store.revoke(grant_id, until)?;
        if let Some(a) = &self.inner.audit {
            a.append_event(kind::GRANT_REVOKED, grant_id, "")?;
        }
        Ok(())
    }

    fn check_fields(&self, g: &Grant) -> Result<()> {
        let pack = self.pack();
        for (i, f) in g.fields.iter().enumerate() {
            if !pack.fields().contains(f) {
                return Err(InvalidRequest::new(
                    format!("grant.fields[{i}]"),
                    format!(
                        "unknown field `{f}`; the pack decides {}",
                        pack.fields().join(", ")
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Refuses a step of a grant for an employee suspended on the fleet (the kill switch;
    /// the facts passed in are checked by `grant`). The store is asked, as it is the fleet's
    /// list; one that cannot answer refuses the step.
    fn not_suspended(&self, key: &str, employee: &str) -> Result<()> {
        match self
            .inner
            .store
            .suspended()?
            .into_iter()
            .find(|s| s.employee == employee)
        {
            Some(s) => Err(InvalidRequest::new(
                key,
                format!("`{employee}` is suspended ({})", s.reason),
            )
            .into()),
            None => Ok(()),
        }
    }

    /// Signs and audits `g` once nothing refuses it: its grantee is not suspended, and its
    /// id was not revoked (a grant under a revoked id could never be used).
    fn issue(&self, g: Grant, what: &str) -> Result<Grant> {
        self.not_suspended("grant.grantee", &g.grantee)?;
        if self.inner.store.is_revoked(&g.id, Timestamp::now())? {
            return Err(InvalidRequest::new(
                "grant.id",
                format!("`{}` was revoked; a new grant needs a new id", g.id),
            )
            .into());
        }
        let signed = self.inner.grant_keys.sign(g);
        if let Some(a) = &self.inner.audit {
            a.append_event(what, &signed.id, &summary(&signed))?;
        }
        Ok(signed)
    }
}
