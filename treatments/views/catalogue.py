"""The treatment catalogue: everyone reads it, managers change it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinic.roles import Role, has_role, role_required
from treatments.forms.catalogue import TreatmentTypeForm, parameter_formset
from treatments.models import TreatmentType
from treatments.selectors_series import treatment_type_list, treatment_type_page
from treatments.services.catalogue import CatalogueError, treatment_type_save
from treatments.views.common import paginate


@role_required()
def treatmenttype_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "treatments/treatmenttype_list.html",
        {
            "page_obj": paginate(request, treatment_type_list()),
            "can_edit": has_role(request.user, Role.MANAGER),
        },
    )


def _get_type(treatment_type_id: int) -> TreatmentType:
    try:
        return treatment_type_page(treatment_type_id)
    except TreatmentType.DoesNotExist:
        raise Http404("No such treatment.") from None


@role_required()
def treatmenttype_detail(request: HttpRequest, treatment_type_id: int) -> HttpResponse:
    treatment_type = _get_type(treatment_type_id)
    return render(
        request,
        "treatments/treatmenttype_detail.html",
        {
            "treatment_type": treatment_type,
            "parameters": treatment_type.parameter_specs,
            "can_edit": has_role(request.user, Role.MANAGER),
        },
    )


def _edit(request: HttpRequest, treatment_type: TreatmentType | None) -> HttpResponse:
    schema = treatment_type.parameter_schema if treatment_type else []
    if request.method == "POST":
        form = TreatmentTypeForm(request.POST, instance=treatment_type)
        formset = parameter_formset(data=request.POST, schema=schema)
        if form.is_valid() and formset.is_valid():
            try:
                saved = treatment_type_save(
                    treatment_type=treatment_type,
                    values=form.values(),
                    parameters=formset.schema_entries(),
                    rooms=form.cleaned_data["rooms"],
                )
            except CatalogueError as error:
                for field, message in error.errors.items():
                    form.add_error(field if field in form.fields else None, message)
                kept = formset.kept_forms()
                for index, row_messages in error.parameter_errors.items():
                    for message in row_messages:
                        if index is not None and index < len(kept):
                            kept[index].add_error(None, message)
                        else:
                            form.add_error(None, message)
            else:
                verb = "updated" if treatment_type else "added to the catalogue"
                messages.success(request, f"{saved.name} {verb}.")
                return redirect("treatments:treatmenttype_detail", saved.pk)
    else:
        form = TreatmentTypeForm(instance=treatment_type)
        formset = parameter_formset(schema=schema)
    return render(
        request,
        "treatments/treatmenttype_form.html",
        {"form": form, "formset": formset, "treatment_type": treatment_type},
    )


@role_required(Role.MANAGER)
def treatmenttype_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@role_required(Role.MANAGER)
def treatmenttype_update(request: HttpRequest, treatment_type_id: int) -> HttpResponse:
    return _edit(request, _get_type(treatment_type_id))
