"""HTTP routes. Each module builds an `APIRouter`; `gateway.app` mounts them."""
